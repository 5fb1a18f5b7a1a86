/** `migrate`: apply pending migrations (the engine's, then the app's) under the advisory lock, and exit. */
import type { App } from '../app.js';
import { migrationSets, resolveDatabaseUrl, sessionUrl } from '../db/database.js';
import { runMigrations } from '../db/migrate.js';
import { createLogger } from '../log.js';
import { readConfig } from './runtime.js';

export async function migrate(app: App | undefined): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.LOG_LEVEL).child({ process: 'migrate' });
  const sets = migrationSets(app);
  const resolved = await resolveDatabaseUrl(config, log);
  try {
    const { applied } = await runMigrations(sessionUrl(resolved), sets);
    log.info({ applied, sets: sets.map((s) => s.name) }, applied ? 'migrations applied' : 'database already up to date');
  } finally {
    await resolved.embedded?.stop();
  }
}
