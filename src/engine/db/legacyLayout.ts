/**
 * The earlier layout, before the engine had its own schema: engine and
 * food-delivery tables side by side in `public`, and one interleaved drizzle
 * history in drizzle.__drizzle_migrations with the folders below.
 *
 * How an installation of it maps onto the new histories:
 * - the engine's first migration (drizzle/engine/…_threefactor_schema) sees
 *   the old functions and moves the engine tables into `threefactor` itself,
 *   so the engine history simply starts there;
 * - the app's history starts with its baseline recorded as applied (its
 *   tables are already there, made by the same DDL), by `adoptLegacyHistory`;
 *   the old rows are then removed from drizzle.__drizzle_migrations, and the
 *   table too once empty (it was only ever ours in that layout).
 */
import type postgres from 'postgres';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { MigrationSet } from './migrate.js';

export const LEGACY_HISTORY = { schema: 'drizzle', table: '__drizzle_migrations' } as const;

export const LEGACY_MIGRATIONS = [
  '20261122152055_foundation',
  '20261122152059_event_log_guards',
  '20261122153527_one_pending_payment_per_order',
  '20261122153828_delivery',
  '20261122153851_delivery_routing',
  '20261122155131_capture_sync_qualified_names',
] as const;

/**
 * An `adoptHistory` for an app whose tables the earlier layout created:
 * when the set has no history yet and the legacy history shows `marker`
 * applied, record the set's first `baseline` migrations as applied.
 */
export function adoptLegacyHistory(opts: { marker: (typeof LEGACY_MIGRATIONS)[number]; baseline: number }) {
  return async (sql: postgres.Sql, set: MigrationSet): Promise<void> => {
    const legacy = `${LEGACY_HISTORY.schema}.${LEGACY_HISTORY.table}`;
    const [found] = await sql<{ ok: boolean }[]>`select to_regclass(${legacy}) is not null as ok`;
    if (!found?.ok) return;
    const [marked] = await sql<{ n: number }[]>`
      select count(*)::int as n from ${sql(LEGACY_HISTORY.schema)}.${sql(LEGACY_HISTORY.table)} where name = ${opts.marker}`;
    if (!marked?.n) return;
    const baseline = readMigrationFiles({ migrationsFolder: set.folder }).slice(0, opts.baseline);
    const { schema, table } = set.history;
    await sql.begin(async (tx) => {
      await tx`create schema if not exists ${tx(schema)}`;
      // drizzle's own history table, as its migrate() would create it.
      await tx`
        create table if not exists ${tx(schema)}.${tx(table)} (
          id serial primary key, hash text not null, created_at bigint, name text, applied_at timestamp with time zone default now()
        )`;
      const [existing] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(schema)}.${tx(table)}`;
      if (existing?.n) return;
      for (const m of baseline) {
        await tx`insert into ${tx(schema)}.${tx(table)} (hash, created_at, name) values (${m.hash}, ${m.folderMillis}, ${m.name ?? null})`;
      }
      await tx`delete from ${tx(LEGACY_HISTORY.schema)}.${tx(LEGACY_HISTORY.table)} where name in ${tx([...LEGACY_MIGRATIONS])}`;
      const [left] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(LEGACY_HISTORY.schema)}.${tx(LEGACY_HISTORY.table)}`;
      if (!left?.n) await tx`drop table ${tx(LEGACY_HISTORY.schema)}.${tx(LEGACY_HISTORY.table)}`;
    });
  };
}
