/**
 * One HTTP POST of a delivery, over node:http / node:https with one
 * keep-alive agent per scheme for the process, so a dispatcher sending to the
 * same handlers reuses sockets. (Not fetch: on Node 20 it costs about three
 * times the CPU per request, which caps a dispatcher near 2,000 webhooks/s
 * on one core.) An idle socket is closed before the receiver's announced
 * `Keep-Alive: timeout` (Node's agent honours the hint) and after
 * IDLE_SOCKET_MS otherwise, so a request rarely lands on a socket the
 * receiver is closing.
 * Redirects are not followed: a 3xx is a failure like any non-2xx.
 * Only the first few KB of the response are read.
 */
import http from 'node:http';
import https from 'node:https';
import { MAX_STORED_CHARS, truncateText } from './truncate.js';

export type HttpResult =
  | { kind: 'response'; status: number; body: string; retryAfter: string | null }
  | { kind: 'error'; error: string; timedOut: boolean };

/** Idle keep-alive sockets are closed after this (undici's default), unless the receiver announces less. */
const IDLE_SOCKET_MS = 4_000;
const MAX_READ_BYTES = MAX_STORED_CHARS * 2;

const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' }),
};

class Timeout extends Error {}

export function postWebhook(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<HttpResult> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ kind: 'error', error: 'invalid webhook URL', timedOut: false });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.resolve({ kind: 'error', error: `unsupported webhook URL scheme ${target.protocol}`, timedOut: false });
  }
  const payload = Buffer.from(body);
  const transport = target.protocol === 'https:' ? https : http;

  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const onAbort = () => {
      req?.destroy();
      finish({ abort: signal.reason });
    };
    const finish = (outcome: { result: HttpResult } | { abort: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.abort);
    };
    // Before the response the request reports errors; after it, the response does (a timeout while reading the body included).
    const fail = (err: Error) => {
      if (err instanceof Timeout) finish({ result: { kind: 'error', error: `timed out after ${timeoutMs} ms`, timedOut: true } });
      else finish({ result: { kind: 'error', error: truncateText(describe(err)), timedOut: false } });
    };
    try {
      req = transport.request(target, {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(payload.length) },
      });
    } catch (err) {
      // A header value the HTTP layer refuses (e.g. a control character from an env variable).
      return fail(err instanceof Error ? err : new Error(String(err)));
    }
    const sent = req;
    signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => sent.destroy(new Timeout()), timeoutMs);

    sent.on('error', fail);
    sent.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const retryAfter = res.headers['retry-after'];
        finish({
          result: {
            kind: 'response',
            status: res.statusCode ?? 0,
            body: truncateText(Buffer.concat(chunks).toString('utf8')),
            retryAfter: retryAfter === undefined ? null : String(retryAfter),
          },
        });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough for the record: drop the rest, and the socket with it (it cannot be reused mid-body).
        if (size >= MAX_READ_BYTES) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', fail);
    });
    sent.end(payload);
  });
}

/** "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9" — the code first, for logs and dead letters. */
function describe(err: Error): string {
  const code = (err as { code?: string }).code;
  return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
}
