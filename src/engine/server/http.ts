/**
 * The API's HTTP server: health, readiness and metrics routes in front of
 * the GraphQL handler, plus a drain that stops accepting work and lets
 * in-flight requests finish. Other transports (WebSocket) attach to the same
 * server through `onUpgrade`-style closers registered in `extraClosers`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sql } from '../db/client.js';
import { sleep } from '../lib.js';
import type { MigrationSet } from '../db/migrate.js';
import type { Logger } from '../log.js';
import { healthz, readyz, type Readiness } from './health.js';
import { serveMetrics, type MetricsAccess } from './metrics.js';
import type { Yoga } from './yoga.js';

/** Handles a request and returns true, or returns false to let the next handler have it. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface ApiServer {
  server: Server;
  readiness: Readiness;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stop accepting, finish in-flight requests (up to timeoutMs), then close. */
  drain(timeoutMs: number): Promise<void>;
  /** Register something to close during drain (e.g. the WebSocket server). */
  onDrain(closer: () => Promise<void>): void;
}

export function createApiServer(opts: {
  yoga: Yoga;
  sql: Sql;
  migrations: MigrationSet[];
  log: Logger;
  /** Who may read /metrics on this (public) port: apiMetricsAccess(config). */
  metrics: MetricsAccess;
  extraRoutes?: ExtraRoute;
}): ApiServer {
  const readiness: Readiness = { draining: false };
  const closers: Array<() => Promise<void>> = [];
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
    if (readiness.draining) res.setHeader('connection', 'close');
    const path = req.url?.split('?')[0];
    if (path === '/healthz') return healthz(res);
    if (path === '/readyz') return void readyz(res, opts.sql, opts.migrations, readiness);
    if (path === '/metrics') {
      void serveMetrics(req, res, opts.metrics);
      return;
    }
    if (opts.extraRoutes?.(req, res)) return;
    void opts.yoga(req, res, { requestId: requestIdOf(req, res) });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    readiness,
    onDrain: (closer) => void closers.push(closer),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve({ port: addr.port, url: `http://${shownHost}:${addr.port}` });
        });
      }),
    async drain(timeoutMs) {
      readiness.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all(closers.map((close) => close()));
      const finished = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      const deadline = sleep(timeoutMs, { unref: true }).then(() => 'timeout' as const);
      if ((await Promise.race([finished, deadline])) === 'timeout') {
        opts.log.warn({ inFlight }, 'drain deadline reached; closing remaining connections');
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : crypto.randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}
