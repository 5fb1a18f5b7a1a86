/**
 * A request body read with a bound and a deadline: the declared
 * Content-Length is checked before a byte is read (a missing one is refused,
 * an over-long one too), reading stops as soon as the bytes received pass the
 * bound, whatever the header said, and a body that has not fully arrived by
 * the deadline is refused (408). Nothing a sender does before its body is in
 * can hold more than a connection, and that only until the deadline.
 */

export type BodyRead = { ok: true; text: string } | { ok: false; status: number; error: string };

export interface BodyLimits {
  maxBytes: number;
  /** The whole body must arrive within this, counted from the start of the read. */
  timeoutMs: number;
}

export async function readBoundedBody(request: Request, limits: BodyLimits): Promise<BodyRead> {
  const { maxBytes, timeoutMs } = limits;
  const declared = request.headers.get('content-length');
  if (declared === null) return { ok: false, status: 411, error: 'Content-Length is required' };
  if (!/^\d+$/.test(declared)) return { ok: false, status: 400, error: 'Content-Length is not a number' };
  if (Number(declared) > maxBytes) return tooLarge(maxBytes);

  const reader = request.body?.getReader();
  if (!reader) return { ok: true, text: '' };
  // Stop the sender's bytes here; the answer goes out without waiting for the rest.
  const stopReading = () => void reader.cancel().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === 'late') {
        stopReading();
        return { ok: false, status: 408, error: `the body did not arrive within ${timeoutMs} ms` };
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        stopReading();
        return tooLarge(maxBytes);
      }
      chunks.push(next.value);
    }
  } catch {
    return { ok: false, status: 400, error: 'the body was cut short' };
  } finally {
    clearTimeout(timer);
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
