import { afterEach, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { appliedCount, ENGINE_MIGRATIONS, isMigrated, migrationCount, runMigrations } from '../../src/engine/db/migrate.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const APP_MODE = [ENGINE_MIGRATIONS, foodDeliveryMigrations];

const tablesIn = async (database: TestDatabase, schema: string) =>
  (await database.sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = ${schema} order by 1`).map((r) => r.t);

describe('migrations', () => {
  it('are safe when several processes apply them at once (advisory lock)', async () => {
    db = await freshDatabase({ empty: true });
    expect(await isMigrated(db.sql, APP_MODE)).toBe(false);
    const results = await Promise.all(Array.from({ length: 5 }, () => runMigrations(urlFor(db!.name), APP_MODE)));
    // Exactly one caller applied them; the others found nothing left to do.
    const applied = results.map((r) => r.applied).sort();
    expect(applied.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(applied[4]).toBe(migrationCount(ENGINE_MIGRATIONS) + migrationCount(foodDeliveryMigrations));
    expect(await isMigrated(db.sql, APP_MODE)).toBe(true);
    // Each set keeps its own history, and neither uses drizzle's default table.
    expect(await appliedCount(db.sql, ENGINE_MIGRATIONS)).toBe(migrationCount(ENGINE_MIGRATIONS));
    expect(await appliedCount(db.sql, foodDeliveryMigrations)).toBe(migrationCount(foodDeliveryMigrations));
    expect(await tablesIn(db, 'threefactor')).toEqual([
      '__drizzle_migrations',
      'deliveries',
      'delivery_attempts',
      'event_triggers',
      'events',
      'workflow_definitions',
      'workflow_instances',
      'workflow_signals',
      'workflow_steps',
      'workflow_waits',
      'workflow_waits_ahead',
    ]);
    expect(await tablesIn(db, 'drizzle')).toEqual(['__food_delivery_migrations']);
    expect(await tablesIn(db, 'public')).toEqual(['customers', 'driver_assignments', 'drivers', 'menu_items', 'order_items', 'orders', 'payments', 'restaurants']);
  });

  it('for the engine alone create nothing outside the schema threefactor', async () => {
    db = await freshDatabase({ empty: true });
    const { applied } = await runMigrations(urlFor(db.name), [ENGINE_MIGRATIONS]);
    expect(applied).toBe(migrationCount(ENGINE_MIGRATIONS));
    expect(await isMigrated(db.sql, [ENGINE_MIGRATIONS])).toBe(true);
    expect(await isMigrated(db.sql, APP_MODE)).toBe(false);
    expect(await tablesIn(db, 'public')).toEqual([]);
    const [outside] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
      where n.nspname not in ('threefactor', 'pg_catalog', 'information_schema', 'pg_toast')`;
    expect(outside!.n).toBe(0);
    const [types] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
      where n.nspname = 'public'`;
    expect(types!.n).toBe(0);
  });
});
