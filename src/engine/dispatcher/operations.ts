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
import { metricsListener } from '../server/metricsServer.js';
import type { DispatcherHooks } from './dispatcher.js';
import { deliveryMetricsHooks, watchDeliveryQueues } from './metrics.js';
import { Retention, type RetentionConfig } from './retention.js';

export interface DispatchOperationsOptions {
  database: Pick<Database, 'sql' | 'direct'>;
  log: Logger;
  config: RetentionConfig & Pick<Config, 'METRICS_PORT' | 'METRICS_HOST' | 'METRICS_TOKEN'>;
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
  const listener = metricsListener(config, log);
  const services: Service[] = [
    {
      name: 'delivery queue gauges',
      start: async () => void (unwatch = watchDeliveryQueues(database.sql, log)),
      stop: async () => unwatch(),
    },
  ];
  if (listener) services.push(listener);
  services.push(new Retention({ database, log, config }));
  return {
    hooks: deliveryMetricsHooks(),
    services,
    get metricsUrl() {
      return listener?.url ?? null;
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
