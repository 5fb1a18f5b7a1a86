/**
 * The operator side of a dispatch process, as services: delivery metrics
 * (outcome hooks for startDispatcher, queue gauges read from this database,
 * a /metrics listener on METRICS_PORT when set) and retention (one
 * dispatcher at a time, under its advisory lock).
 *
 * In the dispatch command (src/cli/dispatch.ts), on the process's Runtime:
 *   const ops = dispatchOperations({ database, log, config });
 *   new Runtime('dispatcher', [database, ...ops.services, dispatcher with hooks: ops.hooks], log)
 * so they start before the dispatcher and stop after it.
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { Runtime, type Service } from '../runtime/service.js';
import { startMetricsServer, type MetricsServer } from '../server/metricsServer.js';
import type { DispatcherHooks } from './dispatcher.js';
import { deliveryMetricsHooks, watchDeliveryQueues } from './metrics.js';
import { Retention, type RetentionConfig } from './retention.js';

export interface DispatchOperationsOptions {
  database: Pick<Database, 'sql'>;
  log: Logger;
  config: RetentionConfig & Pick<Config, 'METRICS_PORT' | 'HOST'>;
}

export interface DispatchServices {
  /** Pass to startDispatcher. */
  hooks: DispatcherHooks;
  /** Queue gauges, the /metrics listener (when METRICS_PORT is set), retention: in this order. */
  services: Service[];
  /** Where /metrics is served, once the listener has started (null without METRICS_PORT). */
  readonly metricsUrl: string | null;
}

export function dispatchOperations(opts: DispatchOperationsOptions): DispatchServices {
  const { database, log, config } = opts;
  let unwatch = () => {};
  let server: MetricsServer | null = null;
  const services: Service[] = [
    {
      name: 'delivery queue gauges',
      start: async () => void (unwatch = watchDeliveryQueues(database.sql, log)),
      stop: async () => unwatch(),
    },
  ];
  if (config.METRICS_PORT > 0) {
    services.push({
      name: 'metrics listener',
      start: async () => void (server = await startMetricsServer(config.METRICS_PORT, log, config.HOST)),
      stop: async () => server?.close(),
    });
  }
  services.push(new Retention({ database, log, config }));
  return {
    hooks: deliveryMetricsHooks(),
    services,
    get metricsUrl() {
      return server ? `${server.url}/metrics` : null;
    },
  };
}

export interface DispatchOperations {
  /** Pass to startDispatcher. */
  hooks: DispatcherHooks;
  /** Where /metrics is served, when METRICS_PORT is set. */
  metricsUrl: string | null;
  /** After the dispatcher has stopped: ends retention (between two batches) and the listener. */
  stop(deadline?: number): Promise<void>;
}

/** The same services started on their own Runtime, for a caller without one. */
export async function startDispatchOperations(opts: DispatchOperationsOptions): Promise<DispatchOperations> {
  const ops = dispatchOperations(opts);
  const runtime = new Runtime('dispatch operations', ops.services, opts.log, { level: 'debug' });
  await runtime.start();
  return {
    hooks: ops.hooks,
    metricsUrl: ops.metricsUrl,
    stop: (deadline = Date.now() + 10_000) => runtime.stop(deadline),
  };
}
