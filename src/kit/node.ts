/**
 * `serveHandlers`: the fetch core (./fetchHandler.ts) on Node's HTTP server
 * (`serveFetch` takes any fetch handler).
 * This adapter converts, IncomingMessage → Request (the body streamed only as
 * the core reads it, so the core's bound is the only reader) and Response →
 * ServerResponse, and owns what a long-running process needs: deadlines for
 * slow senders (headers here, the body in the core), connection reuse, and
 * `drain` for SIGTERM (stop accepting, let in-flight calls finish, then close,
 * then flush the spans of whatever tracer provider the host registered).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler } from './defineHandler.js';
import { createFetchHandler, DEFAULT_BODY_TIMEOUT_MS, type FetchHandler, type FetchHandlerOptions } from './fetchHandler.js';
import { createLogger } from './log.js';
import { watchServiceToken } from './serviceToken.js';
import { flushSpans } from './telemetry.js';

export interface ServeOptions extends Omit<FetchHandlerOptions, 'draining'> {
  port: number;
  /** Defaults to loopback; set 0.0.0.0 to serve other hosts. */
  host?: string;
}

export interface HandlerServer {
  server: Server;
  /** What the server bound, `host:port` (`0.0.0.0:4100`: every interface). */
  address: string;
  /** A URL that reaches it from this host: loopback when it binds every interface. */
  url: string;
  port: number;
  /** Stop accepting, let in-flight calls finish (up to timeoutMs), then close. */
  drain(timeoutMs: number): Promise<void>;
}

export interface FunctionsServer extends HandlerServer {
  /** Epoch ms at which the service token expires (undefined: no `exp`, or not a JWT); the log warns ahead of it. */
  serviceTokenExpiresAt: number | undefined;
}

export async function serveHandlers(handlers: readonly Handler[], opts: ServeOptions): Promise<FunctionsServer> {
  const log = opts.log ?? createLogger();
  const server = await serveFetch((draining) => createFetchHandler(handlers, { ...opts, log, draining }), { ...opts, log });
  const watch = watchServiceToken(opts.serviceToken, log.child({ component: 'handlers' }));
  return {
    ...server,
    serviceTokenExpiresAt: watch.expiresAt,
    async drain(timeoutMs) {
      const started = Date.now();
      watch.stop();
      await server.drain(timeoutMs);
      // The drained calls' spans, if the host registered an SDK (./telemetry.ts): a moment even past the deadline.
      await flushSpans(Math.max(FLUSH_AT_LEAST_MS, timeoutMs - (Date.now() - started)));
    },
  };
}

/** Spans are telemetry, not data: flushing them never takes long, but gets this much however late the drain ran. */
const FLUSH_AT_LEAST_MS = 500;

/**
 * Any fetch handler on Node's HTTP server. `make` receives the server's
 * draining state, for a handler that reports it (`/readyz`, 503 once draining).
 */
export async function serveFetch(
  make: (draining: () => boolean) => FetchHandler,
  opts: Pick<ServeOptions, 'port' | 'host' | 'log' | 'bodyTimeoutMs'>,
): Promise<HandlerServer> {
  const log = (opts.log ?? createLogger()).child({ component: 'handlers' });
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  let draining = false;
  const handle = make(() => draining);

  let open = 0;
  let idle: (() => void) | undefined;
  // Node checks its header and request deadlines only at this interval (30 s by default): often enough for ours.
  const server = createServer({ connectionsCheckingInterval: Math.min(30_000, Math.max(250, bodyTimeoutMs / 2)) }, (req, res) => {
    open++;
    res.on('close', () => {
      open--;
      if (open === 0) idle?.();
    });
    respond(handle, req, res, () => draining).catch((err: unknown) => {
      log.error({ err }, 'handler server error');
      if (!res.headersSent) res.writeHead(500, { connection: 'close' }).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  // Headers get the body's deadline; the core then bounds the body itself (408). The request deadline is only
  // a backstop for a body the core never reads. Neither counts the function's run.
  server.headersTimeout = bodyTimeoutMs;
  server.requestTimeout = 2 * bodyTimeoutMs + 1_000;

  const bound = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
  const port = bound.port;

  return {
    server,
    port,
    address: `${hostForUrl(bound.address)}:${port}`,
    url: `http://${hostForUrl(reachableHost(bound.address))}:${port}`,
    async drain(timeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const finished = open === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([finished, deadline])) === 'timeout') {
        log.warn({ open }, 'drain deadline reached; closing remaining connections');
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** An unspecified address (every interface) is reached through loopback from this host. */
function reachableHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

async function respond(handle: FetchHandler, req: IncomingMessage, res: ServerResponse, draining: () => boolean): Promise<void> {
  // The sender gone before the answer (its timeout): the Request's signal aborts the function's API calls.
  const abandoned = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abandoned.abort();
  });
  let request: Request;
  try {
    request = toRequest(req, abandoned.signal);
  } catch {
    res.writeHead(400, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: 'malformed request' }));
    return;
  }
  const response = await handle(request);
  // The kit's answers are small JSON documents: buffered, sent with their length.
  const body = new Uint8Array(await response.arrayBuffer());
  response.headers.forEach((value, name) => res.setHeader(name, value));
  // A body the core refused without reading must not linger on a kept-alive connection.
  if (!req.complete || draining()) res.setHeader('connection', 'close');
  res.writeHead(response.status, { 'content-length': body.byteLength });
  res.end(body);
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  // The core routes by path only: the origin is a placeholder, not whatever Host the client sent.
  const url = `http://localhost${req.url?.startsWith('/') ? req.url : '/'}`;
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers, signal });
  // Node requires `duplex` for a streamed body; the DOM typings do not know it yet.
  const init: RequestInit & { duplex: 'half' } = { method, headers, signal, body: bodyOf(req), duplex: 'half' };
  return new Request(url, init);
}

/** The request body as a web stream that pulls from the socket only when read. */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let flowing = false;
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const settle = (end: () => void) => {
          if (settled) return;
          settled = true;
          end();
        };
        req.on('end', () => settle(() => controller.close()));
        req.on('error', (err) => settle(() => controller.error(err)));
        req.on('close', () => {
          if (!req.complete) settle(() => controller.error(new Error('the sender went away mid-body')));
        });
      },
      pull(controller) {
        if (flowing) {
          req.resume();
          return;
        }
        flowing = true;
        req.on('data', (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          // Backpressure: wait for the next read before taking more from the socket.
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
      },
      cancel() {
        settled = true;
        req.pause();
      },
    },
    // Nothing is read ahead: a refused request's body stays on the socket, which is then closed.
    { highWaterMark: 0 },
  );
}
