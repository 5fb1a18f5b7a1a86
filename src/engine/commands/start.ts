/**
 * `start`: the API process. With ALL_IN_ONE (the default in development)
 * it also runs the dispatcher and the app's handler functions in-process, so
 * one command brings up the whole flow; in production run one process per
 * role (`start`, `dispatch`, `handlers`) and scale each out. With APP=none
 * it serves the engine alone: the admin API and the `events` stream.
 *
 * One Runtime: the database, the realtime hub, the API, then (all-in-one)
 * the dispatcher's services; stopped in reverse by the SIGTERM deadline, so
 * the dispatcher drains while the API its handlers write back to still serves.
 */
import type { App } from '../app.js';
import { onInDevelopment, type Config } from '../config.js';
import type { Db } from '../db/client.js';
import { migrationSets, openDatabase } from '../db/database.js';
import type { Logger } from '../log.js';
import { apiService } from '../runtime/apiService.js';
import { realtimeService } from '../runtime/realtimeService.js';
import { Runtime, type Service } from '../runtime/service.js';
import { createApi } from '../server/api.js';
import { metricsListener } from '../server/metricsServer.js';
import { appTriggers, databaseService, declaredTriggers, dispatcherServices, startOrFail, type DispatchSetup } from './dispatch.js';
import { handlerSettings } from './handlerSettings.js';
import { runService } from './runtime.js';

/** Conveniences that default on in development only; tests and production opt in explicitly. */

export async function start(app: App | undefined): Promise<void> {
  await runService('api', app, async (config, log) => {
    const database = await openDatabase(config, log, { applicationName: 'threefactor-api', migrations: migrationSets(app) });
    if (app && onInDevelopment(config.SEED_DEMO_DATA, config)) await seedIfEmpty(app, database.db, log);
    const api = createApi(config, database, log, app);
    const allInOne = onInDevelopment(config.ALL_IN_ONE, config);
    let apiUrl = '';
    const services: Service[] = [
      databaseService(database),
      realtimeService(api.realtime),
      apiService(api, { port: config.PORT, host: config.HOST }, ({ port, url }) => {
        apiUrl = `http://127.0.0.1:${port}/graphql`;
        log.info({ url: `${url}/graphql`, app: app?.name ?? 'none', graphiql: onInDevelopment(config.GRAPHIQL, config) }, 'api listening');
      }),
    ];
    // The in-process handlers still write back through the GraphQL API: this process's own, started before them.
    if (allInOne) services.push(...dispatcherServices(config, log, database, () => inProcessSetup(config, log, app, apiUrl)));
    // The API alone: /metrics off its public port too, when METRICS_PORT is set (all-in-one's dispatcher services serve it).
    const metrics = allInOne ? undefined : metricsListener(config, log);
    if (metrics) services.push(metrics);
    const runtime = await startOrFail(new Runtime('start', services, log));
    if (allInOne) log.info('all-in-one: dispatcher and handler functions running in this process');
    return runtime;
  });
}

async function inProcessSetup(config: Config, log: Logger, app: App | undefined, apiUrl: string): Promise<DispatchSetup> {
  const inProcess = app ? { apiUrl, serviceToken: (await handlerSettings({ ...config, API_URL: apiUrl })).serviceToken, log } : undefined;
  return {
    triggers: await declaredTriggers(config, log, appTriggers(app, 'inProcess')),
    workflows: app?.workflows?.('inProcess'),
    inProcessHandlers: app && inProcess ? app.inProcessHandlers(inProcess) : undefined,
  };
}

async function seedIfEmpty(app: App, db: Db, log: Logger): Promise<void> {
  if (!app.seed || !(await app.isEmpty?.(db))) return;
  log.info({ inserted: await app.seed(db) }, 'empty database: demo data loaded');
}
