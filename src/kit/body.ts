/**
 * A request body read with a bound: the declared Content-Length is checked
 * before a byte is read (a missing one is refused, an over-long one too), and
 * reading stops as soon as the bytes received pass the bound, whatever the
 * header said.
 */

export type BodyRead = { ok: true; text: string } | { ok: false; status: number; error: string };

export async function readBoundedBody(request: Request, maxBytes: number): Promise<BodyRead> {
  const declared = request.headers.get('content-length');
  if (declared === null) return { ok: false, status: 411, error: 'Content-Length is required' };
  if (!/^\d+$/.test(declared)) return { ok: false, status: 400, error: 'Content-Length is not a number' };
  if (Number(declared) > maxBytes) return tooLarge(maxBytes);

  const reader = request.body?.getReader();
  if (!reader) return { ok: true, text: '' };
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop the sender's bytes here; the answer goes out without waiting for the rest.
        void reader.cancel().catch(() => {});
        return tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, status: 400, error: 'the body was cut short' };
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { ok: true, text: new TextDecoder().decode(bytes) };
}

function tooLarge(maxBytes: number): BodyRead {
  return { ok: false, status: 413, error: `body exceeds ${maxBytes} bytes` };
}
