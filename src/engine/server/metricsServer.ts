/**
 * A tiny HTTP listener serving only /metrics (and /healthz): the dispatcher's,
 * which has no HTTP server of its own, and the API's when operators keep
 * /metrics off its public port (METRICS_PORT). It binds METRICS_HOST,
 * loopback by default, and asks for METRICS_TOKEN when one is set
 * (./metrics.ts, MetricsAccess).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import { healthz } from './health.js';
import { listenerMetricsAccess, serveMetrics } from './metrics.js';

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** Default 127.0.0.1: reachable from other machines only when the operator says so. */
  host?: string;
  /** The bearer token a scrape must send (METRICS_TOKEN). */
  token?: string | undefined;
}

/** Listens on `port` (0: a free one, for tests; metricsListener skips the call when METRICS_PORT is 0). */
export async function startMetricsServer(port: number, log: Logger, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  const access = listenerMetricsAccess({ METRICS_TOKEN: opts.token });
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      void serveMetrics(req, res, access);
    } else if (path === '/healthz') {
      healthz(res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${bound}`;
  log.info({ url: `${url}/metrics`, token: Boolean(opts.token) }, 'metrics listening');
  return {
    port: bound,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface MetricsListener extends Service {
  /** Where /metrics is served, once started. */
  readonly url: string | null;
}

/** The listener as a process's service, on METRICS_PORT / METRICS_HOST; undefined when METRICS_PORT is 0. */
export function metricsListener(config: Pick<Config, 'METRICS_PORT' | 'METRICS_HOST' | 'METRICS_TOKEN'>, log: Logger): MetricsListener | undefined {
  if (config.METRICS_PORT === 0) return undefined;
  let server: MetricsServer | null = null;
  return {
    name: 'metrics listener',
    start: async () => void (server = await startMetricsServer(config.METRICS_PORT, log, { host: config.METRICS_HOST, token: config.METRICS_TOKEN })),
    stop: async () => server?.close(),
    get url() {
      return server ? `${server.url}/metrics` : null;
    },
  };
}
