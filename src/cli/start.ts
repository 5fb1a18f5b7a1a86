/**
 * `start`: the API process. In development it is the whole system in one
 * process; in production run one process per role and scale each out.
 */
import { openDatabase } from '../db/database.js';
import { createApi } from '../server/api.js';
import { runService } from './runtime.js';

export async function start(): Promise<void> {
  await runService('api', async (config, log) => {
    const database = await openDatabase(config, log, { applicationName: 'threefactor-api' });
    const api = createApi(config, database, log);
    const { url } = await api.listen(config.PORT, config.HOST);
    log.info({ url: `${url}/graphql`, graphiql: config.GRAPHIQL ?? config.NODE_ENV === 'development' }, 'api listening');
    return {
      async stop() {
        await api.drain(config.SHUTDOWN_TIMEOUT_MS);
        await database.close();
      },
    };
  });
}
