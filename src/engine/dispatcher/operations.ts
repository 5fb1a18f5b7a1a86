/**
 * The operator side of a dispatch process, started in one call: delivery
 * metrics (outcome hooks for startDispatcher, queue gauges read from this
 * database, a /metrics listener on METRICS_PORT when set) and retention
 * (one dispatcher at a time, under its advisory lock).
 *
 * In the dispatch command:
 *   const ops = await startDispatchOperations({ database, log, config });
 *   const dispatcher = await startDispatcher({ …, hooks: ops.hooks });
 *   // on SIGTERM: await dispatcher.stop(…); await ops.stop(); await database.close();
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { startMetricsServer, type MetricsServer } from '../server/metricsServer.js';
import type { DispatcherHooks } from './dispatcher.js';
import { deliveryMetricsHooks, watchDeliveryQueues } from './metrics.js';
import { startRetention, type RetentionConfig } from './retention.js';

export interface DispatchOperations {
  /** Pass to startDispatcher. */
  hooks: DispatcherHooks;
  /** Where /metrics is served, when METRICS_PORT is set. */
  metricsUrl: string | null;
  /** After the dispatcher has stopped: ends retention (between two batches) and the listener. */
  stop(): Promise<void>;
}

export async function startDispatchOperations(opts: {
  database: Pick<Database, 'sql'>;
  log: Logger;
  config: RetentionConfig & Pick<Config, 'METRICS_PORT' | 'HOST'>;
}): Promise<DispatchOperations> {
  const { database, log, config } = opts;
  const unwatch = watchDeliveryQueues(database.sql, log);
  let server: MetricsServer | null = null;
  if (config.METRICS_PORT > 0) {
    try {
      server = await startMetricsServer(config.METRICS_PORT, log, config.HOST);
    } catch (err) {
      unwatch();
      throw err;
    }
  }
  const retention = startRetention({ database, log, config });
  return {
    hooks: deliveryMetricsHooks(),
    metricsUrl: server ? `${server.url}/metrics` : null,
    async stop() {
      await retention.stop();
      await server?.close();
      unwatch();
    },
  };
}
