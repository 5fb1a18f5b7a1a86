/**
 * Migrations: drizzle-kit's folders, one history per owner, applied under a
 * session-level advisory lock, because drizzle's migrate() takes none and
 * several processes may start at once.
 *
 * The engine's history lives in its own schema (threefactor.__drizzle_migrations),
 * so an attached application's drizzle history (drizzle.__drizzle_migrations)
 * is never read or written. An app brings its own set with its own history
 * (src/apps/app.ts); sets run in the order given, the engine's first.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { ENGINE_SCHEMA } from './schema/threefactor.js';

const MIGRATIONS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle');

export interface MigrationSet {
  /** Shown in logs: 'engine', 'food-delivery'. */
  name: string;
  folder: string;
  /** Where this set's history is kept: its own table, never another tool's. */
  history: { schema: string; table: string };
  /**
   * Runs under the lock before the set's migrations: maps a history kept
   * elsewhere by an earlier version onto this one (src/db/legacyLayout.ts).
   */
  adoptHistory?(sql: postgres.Sql, set: MigrationSet): Promise<void>;
}

export const ENGINE_MIGRATIONS: MigrationSet = {
  name: 'engine',
  folder: path.join(MIGRATIONS_ROOT, 'engine'),
  history: { schema: ENGINE_SCHEMA, table: '__drizzle_migrations' },
};

/** Arbitrary but fixed: "3factor" in ASCII. */
const MIGRATION_LOCK_KEY = 0x33666163;

export async function runMigrations(url: string, sets: readonly MigrationSet[]): Promise<{ applied: number }> {
  // One connection, so the advisory lock and the migrations share a session.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    let applied = 0;
    for (const set of sets) {
      await set.adoptHistory?.(sql, set);
      const before = await appliedCount(sql, set);
      await migrate(drizzle({ client: sql }), { migrationsFolder: set.folder, migrationsSchema: set.history.schema, migrationsTable: set.history.table });
      applied += (await appliedCount(sql, set)) - before;
    }
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    return { applied };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Migrations of `set` recorded in its history (0 when it has none yet). */
export async function appliedCount(sql: postgres.Sql, set: MigrationSet): Promise<number> {
  const qualified = `${set.history.schema}.${set.history.table}`;
  const [exists] = await sql<{ ok: boolean }[]>`select to_regclass(${qualified}) is not null as ok`;
  if (!exists?.ok) return 0;
  const [count] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(set.history.schema)}.${sql(set.history.table)}`;
  return count?.n ?? 0;
}

/** True when every migration folder of every set has been applied. */
export async function isMigrated(sql: postgres.Sql, sets: readonly MigrationSet[]): Promise<boolean> {
  for (const set of sets) {
    if ((await appliedCount(sql, set)) < migrationCount(set)) return false;
  }
  return true;
}

/** The folders on disk cannot change under a running process: read them once. */
export function migrationCount(set: MigrationSet): number {
  let n = counted.get(set.folder);
  if (n === undefined) counted.set(set.folder, (n = readMigrationFiles({ migrationsFolder: set.folder }).length));
  return n;
}
const counted = new Map<string, number>();
