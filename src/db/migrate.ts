/**
 * Migrations: drizzle-kit's folders in ./drizzle, applied under a
 * session-level advisory lock, because drizzle's migrate() takes none and
 * several processes may start at once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');
/** Arbitrary but fixed: "3factor" in ASCII. */
const MIGRATION_LOCK_KEY = 0x33666163;

export async function runMigrations(url: string): Promise<{ applied: number }> {
  // One connection, so the advisory lock and the migration share a session.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const before = await appliedCount(sql);
    await migrate(drizzle({ client: sql }), { migrationsFolder: MIGRATIONS_DIR });
    const after = await appliedCount(sql);
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    return { applied: after - before };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function appliedCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_tables
    where schemaname = 'drizzle' and tablename = '__drizzle_migrations'`;
  if (!row?.n) return 0;
  const [count] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return count?.n ?? 0;
}

/** True when every migration folder on disk has been applied. */
export async function isMigrated(sql: postgres.Sql): Promise<boolean> {
  // The folders on disk cannot change under a running process: read them once.
  expectedCount ??= readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).length;
  return (await appliedCount(sql)) >= expectedCount;
}
let expectedCount: number | undefined;
