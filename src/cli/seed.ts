/**
 * `seed`: load the demo restaurants, menus, drivers and customers. Safe to
 * run again: rows that exist are left as they are.
 */
import { openDatabase } from '../db/database.js';
import { customers, drivers, menuItems, restaurants } from '../db/schema/domain.js';
import { demoCustomers, demoDrivers, demoMenuItems, demoRestaurants } from '../db/seed/demoData.js';
import type { Db } from '../db/client.js';
import { createLogger } from '../log.js';
import { readConfig } from './runtime.js';

export async function seedDemoData(db: Db): Promise<Record<string, number>> {
  return db.transaction(async (tx) => {
    const counts: Record<string, number> = {};
    counts.customers = (await tx.insert(customers).values(demoCustomers).onConflictDoNothing().returning()).length;
    counts.restaurants = (await tx.insert(restaurants).values(demoRestaurants).onConflictDoNothing().returning()).length;
    counts.menuItems = (await tx.insert(menuItems).values(demoMenuItems).onConflictDoNothing().returning()).length;
    counts.drivers = (await tx.insert(drivers).values(demoDrivers).onConflictDoNothing().returning()).length;
    return counts;
  });
}

export async function seed(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.LOG_LEVEL).child({ process: 'seed' });
  const database = await openDatabase(config, log, { max: 1 });
  try {
    log.info({ inserted: await seedDemoData(database.db) }, 'demo data loaded');
  } finally {
    await database.close();
  }
}
