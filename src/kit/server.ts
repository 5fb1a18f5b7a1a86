/**
 * `serveHandlers`: every function at POST /<name> on one small HTTP server.
 * Order of checks, cheapest and safest first: route, size, Standard Webhooks
 * signature (nothing runs and nothing is parsed before it passes), JSON,
 * envelope shape, then the function. Status codes follow ./errors.ts.
 * /healthz (alive), /readyz (503 once draining); `drain` stops accepting and
 * lets in-flight calls finish, for SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createLogger, type Logger } from '../engine/log.js';
import { sendJson } from '../engine/server/health.js';
import type { Handler } from './defineHandler.js';
import { asFailure } from './errors.js';
import { checkEnvelope } from './event.js';

export interface ServeOptions {
  port: number;
  /** Defaults to loopback; set 0.0.0.0 to serve other hosts. */
  host?: string;
  /** `whsec_<base64>`, the dispatcher's signing secret. */
  webhookSecret: string;
  /** The GraphQL endpoint handlers write back to. */
  apiUrl: string;
  /** JWT with role `service`. */
  serviceToken: string;
  log?: Logger;
  maxBodyBytes?: number;
  /** Calls beyond this are refused with 503 + Retry-After rather than queued without bound. */
  maxInFlight?: number;
  apiTimeoutMs?: number;
}

export interface HandlerServer {
  server: Server;
  url: string;
  port: number;
  /** Stop accepting, let in-flight calls finish (up to timeoutMs), then close. */
  drain(timeoutMs: number): Promise<void>;
}

export async function serveHandlers(handlers: readonly Handler[], opts: ServeOptions): Promise<HandlerServer> {
  const byName = new Map(handlers.map((h) => [h.name, h]));
  if (byName.size !== handlers.length) throw new Error('two handlers share a name');
  // Throws at start on a malformed secret, not on the first delivery.
  const webhook = new Webhook(opts.webhookSecret);
  const log = (opts.log ?? createLogger()).child({ component: 'handlers' });
  const maxBody = opts.maxBodyBytes ?? 1_000_000;
  const maxInFlight = opts.maxInFlight ?? 64;
  const api = { apiUrl: opts.apiUrl, serviceToken: opts.serviceToken, timeoutMs: opts.apiTimeoutMs };

  let draining = false;
  let calls = 0;
  let open = 0;
  let idle: (() => void) | undefined;

  async function call(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return refuse(res, 413, `body exceeds ${maxBody} bytes`);
    const read = await readBody(req, maxBody);
    if ('tooLarge' in read) return refuse(res, 413, `body exceeds ${maxBody} bytes`);
    if ('aborted' in read) return;
    const { body } = read;

    try {
      webhook.verify(body, signatureHeaders(req), { jsonParse: false });
    } catch (err) {
      log.warn({ handler: handler.name, reason: (err as Error).message }, 'webhook signature rejected');
      return sendJson(res, 401, { error: `webhook signature rejected: ${(err as Error).message}` });
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: 'body is not valid JSON' });
    }
    const checked = checkEnvelope(json);
    if (!checked.ok) return sendJson(res, 400, { error: checked.message });

    // The sender gone before the answer (its timeout): stop the function's API calls.
    const abandoned = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abandoned.abort();
    });
    try {
      const outcome = await handler.invoke(checked.payload, {
        api,
        log,
        traceparent: header(req, 'traceparent'),
        tracestate: header(req, 'tracestate'),
        signal: abandoned.signal,
      });
      sendJson(res, 200, { ok: true, outcome });
    } catch (err) {
      const failure = asFailure(err);
      if (failure.retryAfterSec !== undefined) res.setHeader('retry-after', String(failure.retryAfterSec));
      sendJson(res, failure.status, { error: failure.message });
    }
  }

  const server = createServer((req, res) => {
    open++;
    res.on('close', () => {
      open--;
      if (open === 0) idle?.();
    });
    if (draining) res.setHeader('connection', 'close');
    const path = req.url?.split('?')[0] ?? '/';
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok', handlers: [...byName.keys()] });
    if (path === '/readyz') return sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ready' });
    const handler = byName.get(path.slice(1));
    if (!handler) return sendJson(res, 404, { error: `no function at ${path}` });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendJson(res, 405, { error: 'use POST' });
    }
    if (draining) return refuse(res, 503, 'shutting down', 1);
    if (calls >= maxInFlight) return refuse(res, 503, 'too many calls in flight', 1);
    calls++;
    call(handler, req, res)
      .catch((err: unknown) => {
        log.error({ err }, 'handler server error');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      })
      .finally(() => calls--);
  });
  server.keepAliveTimeout = 65_000;
  // A sender gets this long to deliver its request (slow-body protection); the function's run is not counted.
  server.requestTimeout = 30_000;

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const shownHost = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;

  return {
    server,
    port,
    url: `http://${shownHost}:${port}`,
    async drain(timeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const finished = open === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([finished, deadline])) === 'timeout') {
        log.warn({ inFlight: calls }, 'drain deadline reached; closing remaining connections');
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Refuse without reading the body; the connection closes so unread bytes cannot linger. */
function refuse(res: ServerResponse, status: number, error: string, retryAfterSec?: number): void {
  res.setHeader('connection', 'close');
  if (retryAfterSec !== undefined) res.setHeader('retry-after', String(retryAfterSec));
  sendJson(res, status, { error });
}

type BodyRead = { body: string } | { tooLarge: true } | { aborted: true };

/** The body as text; reading stops once it passes `max` bytes or the client goes away. */
function readBody(req: IncomingMessage, max: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8') }));
    // After 'end' this is a no-op (a promise settles once); before it, the sender gave up.
    req.on('close', () => resolve({ aborted: true }));
    req.on('error', () => resolve({ aborted: true }));
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function signatureHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = header(req, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
