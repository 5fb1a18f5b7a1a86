/**
 * The `handlers` process's metrics: the seconds left on its SERVICE_TOKEN, as
 * a gauge on the process registry, served with the default process metrics
 * by the same /metrics listener as every process's (METRICS_PORT on
 * METRICS_HOST, METRICS_TOKEN when set; none when the port is 0). Alert on
 * it: write-backs fail once it reaches zero.
 */
import { Gauge } from 'prom-client';
import type { Config } from '../engine/config.js';
import type { Logger } from '../engine/log.js';
import { registry } from '../engine/server/metrics.js';
import { metricsListener } from '../engine/server/metricsServer.js';

const SERVICE_TOKEN_GAUGE = 'threefactor_handlers_service_token_expiry_seconds';

/** Registers the gauge (read at each scrape) and starts the listener when METRICS_PORT is set; resolves to its closer. */
export async function serveHandlersMetrics(
  config: Pick<Config, 'METRICS_PORT' | 'METRICS_HOST' | 'METRICS_TOKEN'>,
  log: Logger,
  serviceTokenExpiresAt: number | undefined,
): Promise<() => Promise<void>> {
  if (serviceTokenExpiresAt !== undefined) {
    new Gauge({
      name: SERVICE_TOKEN_GAUGE,
      help: 'Seconds until the SERVICE_TOKEN the handlers write back with expires (negative once it has)',
      registers: [registry],
      collect() {
        this.set(Math.round((serviceTokenExpiresAt - Date.now()) / 1000));
      },
    });
  }
  const listener = metricsListener(config, log);
  if (!listener) return async () => {};
  await listener.start();
  return () => listener.stop(Date.now() + 1_000);
}
