/**
 * Resolves the process's database: DATABASE_URL when set, otherwise the
 * embedded server (created on first use), migrated before use.
 */
import postgres from 'postgres';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { connect, type ConnectOptions, type Database } from './client.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { runMigrations } from './migrate.js';

const EMBEDDED_DATABASE = 'threefactor';

export interface ResolvedDatabase {
  url: string;
  embedded?: EmbeddedServer;
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
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const embedded = await startEmbedded(config.EMBEDDED_PG_DIR, log);
  await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
  return { url: embedded.urlFor(EMBEDDED_DATABASE), embedded };
}

export interface OpenedDatabase extends Database {
  embedded?: EmbeddedServer;
}

/** Resolve, migrate and connect: what every long-running command does first. */
export async function openDatabase(config: Config, log: Logger, opts: ConnectOptions = {}): Promise<OpenedDatabase> {
  const { url, embedded } = await resolveDatabaseUrl(config, log);
  const { applied } = await runMigrations(url);
  if (applied > 0) log.info({ applied }, 'migrations applied');
  const database = connect(url, { max: config.DATABASE_POOL_MAX, log, ...opts });
  return {
    ...database,
    embedded,
    close: async (timeout) => {
      await database.close(timeout);
      await embedded?.stop();
    },
  };
}
