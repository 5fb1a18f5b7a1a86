/**
 * `createFetchHandler`: every function at POST /<name>, as one web-standard
 * `(Request) => Promise<Response>` that any fetch-speaking host serves (Node
 * through ./node.ts, Deno.serve, Bun.serve, a Workers `fetch` export).
 * Checks, cheapest and safest first: route and method, draining, the body's
 * length (declared, then read with a bound and a deadline), the Standard
 * Webhooks signature under any configured secret (nothing is parsed and
 * nothing runs before it passes), an in-flight slot, JSON, the envelope,
 * then the function; statuses follow ./contract.ts.
 * A slot is taken only once the body is in and signed, so slow or unsigned
 * senders cannot hold the functions' capacity. /healthz answers while the
 * host runs, /readyz 503 once it drains.
 */
import { readBoundedBody } from './body.js';
import { HEADER } from './contract.js';
import type { Handler } from './defineHandler.js';
import { asFailure } from './errors.js';
import { checkEnvelope } from './event.js';
import { createLogger, type Logger } from './log.js';
import { signatureCheck } from './signature.js';

export interface FetchHandlerOptions {
  /** `whsec_<base64>`, the dispatcher's signing secret; several, space-separated, while one rotates (any of them verifies). */
  webhookSecret: string;
  /** The GraphQL endpoint handlers write back to. */
  apiUrl: string;
  /** JWT with role `service`. */
  serviceToken: string;
  log?: Logger;
  maxBodyBytes?: number;
  /** A body must arrive within this (408 otherwise), so a stalled sender holds nothing for long. */
  bodyTimeoutMs?: number;
  /** Calls beyond this are refused with 503 + Retry-After rather than queued without bound. */
  maxInFlight?: number;
  apiTimeoutMs?: number;
  /** True once the host has begun to shut down: /readyz answers 503, new calls 503 + Retry-After. */
  draining?: () => boolean;
}

export type FetchHandler = (request: Request) => Promise<Response>;

/** A delivery comes from a dispatcher near by: a few seconds is ample for a 1 MB body. */
export const DEFAULT_BODY_TIMEOUT_MS = 5_000;

export function createFetchHandler(handlers: readonly Handler[], opts: FetchHandlerOptions): FetchHandler {
  const byName = new Map(handlers.map((h) => [h.name, h]));
  if (byName.size !== handlers.length) throw new Error('two handlers share a name');
  const verifySignature = signatureCheck(opts.webhookSecret);
  const log = (opts.log ?? createLogger()).child({ component: 'handlers' });
  const bodyLimits = { maxBytes: opts.maxBodyBytes ?? 1_000_000, timeoutMs: opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS };
  const maxInFlight = opts.maxInFlight ?? 64;
  const draining = opts.draining ?? (() => false);
  const api = { apiUrl: opts.apiUrl, serviceToken: opts.serviceToken, timeoutMs: opts.apiTimeoutMs };
  let inFlight = 0;

  async function route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/healthz') return answer(200, { status: 'ok', handlers: [...byName.keys()] });
    if (path === '/readyz') return draining() ? answer(503, { status: 'draining' }) : answer(200, { status: 'ready' });
    const handler = byName.get(path.slice(1));
    if (!handler) return answer(404, { error: `no function at ${path}` });
    if (request.method !== 'POST') return answer(405, { error: 'use POST' }, { allow: 'POST' });
    if (draining()) return answer(503, { error: 'shutting down' }, retryAfter(1));

    const read = await readBoundedBody(request, bodyLimits);
    if (!read.ok) return answer(read.status, { error: read.error });
    try {
      verifySignature(read.text, request.headers);
    } catch (err) {
      log.warn({ handler: handler.name, reason: (err as Error).message }, 'webhook signature rejected');
      return answer(401, { error: `webhook signature rejected: ${(err as Error).message}` });
    }

    if (inFlight >= maxInFlight) return answer(503, { error: 'too many calls in flight' }, retryAfter(1));
    inFlight++;
    try {
      return await call(handler, request, read.text);
    } finally {
      inFlight--;
    }
  }

  async function call(handler: Handler, request: Request, body: string): Promise<Response> {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return answer(400, { error: 'body is not valid JSON' });
    }
    const checked = checkEnvelope(json);
    if (!checked.ok) return answer(400, { error: checked.message });
    try {
      let result: unknown;
      const outcome = await handler.invoke(checked.payload, {
        api,
        log,
        traceparent: request.headers.get(HEADER.traceparent) ?? undefined,
        tracestate: request.headers.get(HEADER.tracestate) ?? undefined,
        delivery: deliveryOf(request.headers),
        // The sender gone before the answer (its timeout): the function's API calls stop.
        signal: request.signal,
        idempotencyKey: request.headers.get(HEADER.webhookId) ?? undefined,
        onResult: (r) => (result = r),
      });
      return answer(200, result === undefined ? { ok: true, outcome } : { ok: true, outcome, result });
    } catch (err) {
      const failure = asFailure(err);
      return answer(failure.status, { error: failure.message }, failure.retryAfterSec === undefined ? {} : retryAfter(failure.retryAfterSec));
    }
  }

  return async (request) => {
    try {
      return await route(request);
    } catch (err) {
      log.error({ err }, 'handler server error');
      return answer(500, { error: 'internal error' });
    }
  };
}

/** The delivery the dispatcher says this is (both headers, or none): the write-back passes it back; the API checks it. */
function deliveryOf(headers: Headers): { id: string; eventId: string } | undefined {
  const id = headers.get(HEADER.delivery);
  const eventId = headers.get(HEADER.event);
  return id && eventId ? { id, eventId } : undefined;
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Retry-After is whole seconds (RFC 9110): a fraction would be ignored by the dispatcher, so round it up. */
function retryAfter(sec: number): Record<string, string> {
  return { [HEADER.retryAfter]: String(Math.max(0, Math.ceil(sec))) };
}
