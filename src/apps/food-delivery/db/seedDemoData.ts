/** Loads the food-delivery demo rows (./demoData.ts). Safe to run again: rows that exist are left as they are. */
import type { Db } from '../../../engine/index.js';
import { customers, drivers, menuItems, restaurants } from './schema.js';
import { demoCustomers, demoDrivers, demoMenuItems, demoRestaurants } from './demoData.js';

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
