/**
 * One HTTP POST of a delivery. fetch (undici) keeps connections alive per
 * origin, so a dispatcher sending to the same handlers reuses sockets.
 * Redirects are not followed: a 3xx is a failure like any non-2xx.
 * Only the first few KB of the response are read.
 */
import { MAX_STORED_CHARS, truncateText } from './truncate.js';

export type HttpResult =
  | { kind: 'response'; status: number; body: string; retryAfter: string | null }
  | { kind: 'error'; error: string; timedOut: boolean };

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([timeout, signal]);
  try {
    const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: both });
    const text = await readSome(res, MAX_STORED_CHARS * 2);
    return { kind: 'response', status: res.status, body: truncateText(text), retryAfter: res.headers.get('retry-after') };
  } catch (err) {
    if (timeout.aborted) return { kind: 'error', error: `timed out after ${timeoutMs} ms`, timedOut: true };
    if (signal.aborted) throw signal.reason;
    return { kind: 'error', error: truncateText(describe(err)), timedOut: false };
  }
}

async function readSome(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (size >= maxBytes) await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).toString('utf8');
}

/** fetch wraps network errors as "fetch failed"; the cause says what happened (ECONNREFUSED …). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}
