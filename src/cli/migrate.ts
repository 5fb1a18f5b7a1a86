/** `migrate`: apply pending migrations (under the advisory lock) and exit. */
import { resolveDatabaseUrl } from '../db/database.js';
import { runMigrations } from '../db/migrate.js';
import { createLogger } from '../log.js';
import { readConfig } from './runtime.js';

export async function migrate(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.LOG_LEVEL).child({ process: 'migrate' });
  const { url, embedded } = await resolveDatabaseUrl(config, log);
  try {
    const { applied } = await runMigrations(url);
    log.info({ applied }, applied ? 'migrations applied' : 'database already up to date');
  } finally {
    await embedded?.stop();
  }
}
