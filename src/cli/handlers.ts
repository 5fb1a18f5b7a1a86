/**
 * `handlers`: serve the business-logic functions over signed webhooks, all of
 * them or those named in HANDLERS (e.g. `HANDLERS=validate-order`), on
 * HANDLERS_PORT. Stateless: run as many as needed behind any load balancer.
 * Its log warns ahead of the SERVICE_TOKEN's expiry; /metrics (METRICS_PORT)
 * has the seconds left.
 */
import { ConfigError } from '../engine/config.js';
import { loadApp } from './apps.js';
import { serveHandlers } from '../kit/node.js';
import { handlerSettings, type HandlerSettings } from '../engine/commands/handlerSettings.js';
import { fail, readConfig, runService } from '../engine/commands/runtime.js';
import { serveHandlersMetrics } from './handlersMetrics.js';

export async function handlers(): Promise<void> {
  const config = readConfig();
  let settings: HandlerSettings;
  try {
    settings = await handlerSettings(config);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const app = await loadApp(config.APP);
  if (!app?.handlers.length) fail(`handlers: APP=${config.APP} has no handler functions`);
  const allHandlers = app.handlers;
  const wanted = config.HANDLERS?.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = wanted?.find((n) => !allHandlers.some((h) => h.name === n));
  if (unknown) fail(`config: HANDLERS names unknown function "${unknown}"; known: ${allHandlers.map((h) => h.name).join(', ')}`);
  const selected = wanted ? allHandlers.filter((h) => wanted.includes(h.name)) : allHandlers;

  await runService('handlers', app, async (_config, log) => {
    const server = await serveHandlers(selected, {
      ...settings,
      port: config.HANDLERS_PORT,
      host: config.HOST,
      log,
      maxBodyBytes: config.MAX_BODY_BYTES,
      bodyTimeoutMs: config.HANDLER_BODY_TIMEOUT_MS,
    });
    log.info({ address: server.address, port: server.port, url: server.url, handlers: selected.map((h) => h.name) }, 'handlers listening');
    const closeMetrics = await serveHandlersMetrics(config, log, server.serviceTokenExpiresAt);
    return {
      stop: async () => {
        await server.drain(config.SHUTDOWN_TIMEOUT_MS);
        await closeMetrics();
      },
    };
  });
}
