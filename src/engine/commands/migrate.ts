/** `migrate`: apply pending migrations (the engine's, then the app's) under the advisory lock, and exit. */
import { loadApp } from './apps.js';
import { migrationSets, resolveDatabaseUrl } from '../engine/db/database.js';
import { runMigrations } from '../engine/db/migrate.js';
import { createLogger } from '../engine/log.js';
import { readConfig } from './runtime.js';

export async function migrate(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.LOG_LEVEL).child({ process: 'migrate' });
  const sets = migrationSets(await loadApp(config.APP));
  const { url, embedded } = await resolveDatabaseUrl(config, log);
  try {
    const { applied } = await runMigrations(url, sets);
    log.info({ applied, sets: sets.map((s) => s.name) }, applied ? 'migrations applied' : 'database already up to date');
  } finally {
    await embedded?.stop();
  }
}
