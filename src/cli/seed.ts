/**
 * `seed`: load the app's demo data (for food-delivery: restaurants, menus,
 * drivers and customers). Safe to run again: rows that exist are left as
 * they are.
 */
import { loadApp } from './apps.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { createLogger } from '../engine/log.js';
import { fail, readConfig } from '../engine/commands/runtime.js';

export async function seed(): Promise<void> {
  const config = readConfig();
  const app = await loadApp(config.APP);
  if (!app?.seed) fail(`seed: APP=${config.APP} has no demo data`);
  const log = createLogger(config.LOG_LEVEL).child({ process: 'seed' });
  const database = await openDatabase(config, log, { max: 1, migrations: migrationSets(app) });
  try {
    log.info({ inserted: await app.seed(database.db) }, 'demo data loaded');
  } finally {
    await database.close();
  }
}
