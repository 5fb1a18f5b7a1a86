/**
 * Prometheus metrics: one registry per process, served at /metrics. Each
 * concern registers its own instruments here (events/, realtime/), so one
 * scrape shows the whole process.
 */
import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { errorMessage } from '../lib.js';

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

/** Answers a scrape with the whole registry; a failing collector is a 500, never a hung request. */
export async function serveMetrics(res: ServerResponse): Promise<void> {
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(text);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`metrics collection failed: ${errorMessage(err)}\n`);
  }
}
