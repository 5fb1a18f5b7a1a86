/**
 * `start`: the API process. With ALL_IN_ONE (the default in development)
 * it also runs the dispatcher and the app's handler functions in-process, so
 * one command brings up the whole flow; in production run one process per
 * role (`start`, `dispatch`, `handlers`) and scale each out. With APP=none
 * it serves the engine alone: the admin API and the `events` stream.
 */
import type { App } from '../engine/app.js';
import type { Config } from '../engine/config.js';
import type { Database, Db } from '../engine/db/client.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { handlerSettings } from './handlerSettings.js';
import type { Logger } from '../engine/log.js';
import { createApi } from '../engine/server/api.js';
import { appTriggers, declaredTriggers, launchDispatcher } from './dispatch.js';
import type { Running } from './runtime.js';
import { runService } from './runtime.js';

/** Conveniences that default on in development only; tests and production opt in explicitly. */
const inDevelopment = (config: Config, flag: boolean | undefined) => flag ?? config.NODE_ENV === 'development';

export async function start(): Promise<void> {
  await runService('api', async (config, log, app) => {
    const database = await openDatabase(config, log, { applicationName: 'threefactor-api', migrations: migrationSets(app) });
    if (app && inDevelopment(config, config.SEED_DEMO_DATA)) await seedIfEmpty(app, database.db, log);
    const api = createApi(config, database, log, app);
    const { port, url } = await api.listen(config.PORT, config.HOST);
    log.info({ url: `${url}/graphql`, app: app?.name ?? 'none', graphiql: config.GRAPHIQL ?? config.NODE_ENV === 'development' }, 'api listening');

    // The in-process handlers still write back through the GraphQL API: this process's own.
    const dispatcher = inDevelopment(config, config.ALL_IN_ONE)
      ? await startInProcessWorkers(config, log, database, app, `http://127.0.0.1:${port}/graphql`)
      : undefined;
    return {
      async stop() {
        await dispatcher?.stop();
        await api.drain(config.SHUTDOWN_TIMEOUT_MS);
        await database.close();
      },
    };
  });
}

async function startInProcessWorkers(config: Config, log: Logger, database: Database, app: App | undefined, apiUrl: string): Promise<Running> {
  const inProcess = app ? { apiUrl, serviceToken: (await handlerSettings({ ...config, API_URL: apiUrl })).serviceToken, log } : undefined;
  const running = await launchDispatcher(config, log, database, {
    triggers: await declaredTriggers(config, log, appTriggers(app, 'inProcess')),
    inProcessHandlers: app && inProcess ? app.inProcessHandlers(inProcess) : undefined,
  });
  log.info('all-in-one: dispatcher and handler functions running in this process');
  return running;
}

async function seedIfEmpty(app: App, db: Db, log: Logger): Promise<void> {
  if (!app.seed || !(await app.isEmpty?.(db))) return;
  log.info({ inserted: await app.seed(db) }, 'empty database: demo data loaded');
}
