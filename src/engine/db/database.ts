/**
 * Resolves the process's database: DATABASE_URL when set (and
 * DATABASE_DIRECT_URL past a pooler), otherwise the embedded server (created
 * on first use), migrated before use on the direct URL (the migrations hold a
 * session advisory lock): the engine's migrations, then those of the
 * process's app, if any.
 */
import postgres from 'postgres';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { connect, type ConnectOptions, type Database } from './client.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { ENGINE_MIGRATIONS, runMigrations, type MigrationSet } from './migrate.js';

const EMBEDDED_DATABASE = 'threefactor';

export interface ResolvedDatabase {
  url: string;
  /** DATABASE_DIRECT_URL: where session-level work connects, past a pooler; unset, it shares `url`. */
  directUrl?: string;
  embedded?: EmbeddedServer;
}

/** Where session-level work connects: the migrations' advisory lock, LISTEN. */
export function sessionUrl(database: ResolvedDatabase): string {
  return database.directUrl ?? database.url;
}

/** Create `name` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as ok from pg_database where datname = ${name}`;
    if (!row) {
      try {
        await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`);
      } catch (err) {
        // Two processes racing to create it: the loser finds it there.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export async function resolveDatabaseUrl(config: Config, log: Logger): Promise<ResolvedDatabase> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, directUrl: config.DATABASE_DIRECT_URL };
  const embedded = await startEmbedded(config.EMBEDDED_PG_DIR, log);
  await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
  return { url: embedded.urlFor(EMBEDDED_DATABASE), embedded };
}

/** The engine's migration set, then the app's. */
export function migrationSets(app: { migrations: MigrationSet } | undefined): MigrationSet[] {
  return app ? [ENGINE_MIGRATIONS, app.migrations] : [ENGINE_MIGRATIONS];
}

export interface OpenedDatabase extends Database {
  embedded?: EmbeddedServer;
  /** The migration sets this process applied and keeps checking (/readyz). */
  migrations: MigrationSet[];
}

export interface OpenOptions extends ConnectOptions {
  migrations: MigrationSet[];
}

/** Resolve, migrate and connect: what every long-running command does first. */
export async function openDatabase(config: Config, log: Logger, opts: OpenOptions): Promise<OpenedDatabase> {
  const resolved = await resolveDatabaseUrl(config, log);
  const { url, directUrl, embedded } = resolved;
  const { migrations, ...connectOptions } = opts;
  const { applied } = await runMigrations(sessionUrl(resolved), migrations);
  if (applied > 0) log.info({ applied, sets: migrations.map((m) => m.name) }, 'migrations applied');
  const database = connect(url, { max: config.DATABASE_POOL_MAX, log, poolMode: config.DATABASE_POOL_MODE, directUrl, ...connectOptions });
  return {
    ...database,
    embedded,
    migrations,
    close: async (timeout) => {
      await database.close(timeout);
      await embedded?.stop();
    },
  };
}
