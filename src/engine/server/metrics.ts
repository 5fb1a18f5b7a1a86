/**
 * Prometheus metrics: one registry per process, served at /metrics. Each
 * concern registers its own instruments here (events/, realtime/), so one
 * scrape shows the whole process.
 *
 * Who may scrape (MetricsAccess): with METRICS_TOKEN set, only a request
 * bearing it, wherever /metrics is served; without it, anyone on the
 * separate listener (METRICS_PORT, bound to METRICS_HOST, loopback by
 * default) and, outside production, on the API's port. In production the
 * API's public port answers 404 unless a token is set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Config } from '../config.js';
import { errorMessage } from '../lib.js';
import { bearer } from './auth.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'threefactor_' });

export const graphqlOperations = new Counter({
  name: 'threefactor_graphql_operations_total',
  help: 'GraphQL operations executed, by type and outcome',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

export const graphqlDuration = new Histogram({
  name: 'threefactor_graphql_operation_seconds',
  help: 'GraphQL operation execution time',
  labelNames: ['type'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export interface MetricsAccess {
  /** Not served here at all: 404, as if there were no such path. */
  hidden: boolean;
  /** The bearer token a scrape must send, when set. */
  token?: string | undefined;
}

/** /metrics on the API's own (public) port. */
export function apiMetricsAccess(config: Pick<Config, 'NODE_ENV' | 'METRICS_TOKEN'>): MetricsAccess {
  return { hidden: config.NODE_ENV === 'production' && !config.METRICS_TOKEN, token: config.METRICS_TOKEN };
}

/** /metrics on the separate listener: where it binds is the operator's access control, plus the token when set. */
export function listenerMetricsAccess(config: Pick<Config, 'METRICS_TOKEN'>): MetricsAccess {
  return { hidden: false, token: config.METRICS_TOKEN };
}

/** Answers a scrape with the whole registry; a failing collector is a 500, never a hung request. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, access: MetricsAccess): Promise<void> {
  if (access.hidden) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  if (access.token !== undefined && !sameSecret(bearer(req.headers.authorization) ?? '', access.token)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('metrics need "Authorization: Bearer <METRICS_TOKEN>"\n');
    return;
  }
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`metrics collection failed: ${errorMessage(err)}\n`);
  }
}

/** Compared as digests: constant time, whatever the lengths. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
