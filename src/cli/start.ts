/**
 * `start`: the API process. With ALL_IN_ONE (the default in development)
 * it also runs the dispatcher and the handler functions in-process, so one
 * command brings up the whole flow; in production run one process per role
 * (`start`, `dispatch`, `handlers`) and scale each out.
 */
import { sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Database, Db } from '../db/client.js';
import { openDatabase } from '../db/database.js';
import { restaurants } from '../db/schema/domain.js';
import { handlerSettings } from '../handlers/settings.js';
import { handlerTriggers, inProcessHandlers } from '../handlers/triggers.js';
import type { Logger } from '../log.js';
import { createApi } from '../server/api.js';
import { declaredTriggers, launchDispatcher } from './dispatch.js';
import type { Running } from './runtime.js';
import { runService } from './runtime.js';
import { seedDemoData } from './seed.js';

/** Conveniences that default on in development only; tests and production opt in explicitly. */
const inDevelopment = (config: Config, flag: boolean | undefined) => flag ?? config.NODE_ENV === 'development';

export async function start(): Promise<void> {
  await runService('api', async (config, log) => {
    const database = await openDatabase(config, log, { applicationName: 'threefactor-api' });
    if (inDevelopment(config, config.SEED_DEMO_DATA)) await seedIfEmpty(database.db, log);
    const api = createApi(config, database, log);
    const { port, url } = await api.listen(config.PORT, config.HOST);
    log.info({ url: `${url}/graphql`, graphiql: config.GRAPHIQL ?? config.NODE_ENV === 'development' }, 'api listening');

    // The in-process handlers still write back through the GraphQL API: this process's own.
    const dispatcher = inDevelopment(config, config.ALL_IN_ONE)
      ? await startInProcessWorkers(config, log, database, `http://127.0.0.1:${port}/graphql`)
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

async function startInProcessWorkers(config: Config, log: Logger, database: Database, apiUrl: string): Promise<Running> {
  const settings = await handlerSettings({ ...config, API_URL: apiUrl });
  const running = await launchDispatcher(config, log, database, {
    triggers: await declaredTriggers(config, handlerTriggers('inProcess')),
    inProcessHandlers: inProcessHandlers({ apiUrl, serviceToken: settings.serviceToken, log }),
  });
  log.info('all-in-one: dispatcher and handler functions running in this process');
  return running;
}

async function seedIfEmpty(db: Db, log: Logger): Promise<void> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(restaurants);
  if (row && row.n > 0) return;
  log.info({ inserted: await seedDemoData(db) }, 'empty database: demo data loaded');
}
