/**
 * A tiny HTTP listener serving only /metrics (and /healthz), for processes
 * that have no HTTP server of their own: the dispatcher. The API serves the
 * same registry on its own port (src/server/http.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { healthz } from './health.js';
import { serveMetrics } from './metrics.js';

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Listens on `port` (0: a free one, for tests; the dispatch command skips the call when METRICS_PORT is 0). */
export async function startMetricsServer(port: number, log: Logger, host = '0.0.0.0'): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      void serveMetrics(res);
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
  log.info({ url: `${url}/metrics` }, 'metrics listening');
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
