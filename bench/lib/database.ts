/**
 * The benchmark's PostgreSQL: DATABASE_URL's server when set, otherwise the
 * embedded server in .bench-data/ (kept apart from dev and test data). Each
 * scenario gets a fresh, migrated database on it, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startEmbedded } from '../../src/engine/db/embedded.js';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { ENGINE_MIGRATIONS, runMigrations } from '../../src/engine/db/migrate.js';
import type { Logger } from '../../src/engine/log.js';

export const BENCH_DATA_DIR = '.bench-data';

export interface BenchServer {
  /** A URL to issue CREATE/DROP DATABASE on. */
  adminUrl: string;
  /** Where the databases live, for the report (never the password). */
  describe: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function openBenchServer(log: Logger): Promise<BenchServer> {
  const given = process.env.DATABASE_URL;
  if (given) {
    const u = new URL(given);
    return { adminUrl: given, describe: `DATABASE_URL server ${u.hostname}:${u.port || 5432}`, urlFor: (db) => withDatabase(given, db), stop: async () => {} };
  }
  const embedded = await startEmbedded(`${BENCH_DATA_DIR}/postgres`, log);
  return { adminUrl: embedded.adminUrl, describe: 'embedded PostgreSQL (.bench-data)', urlFor: embedded.urlFor, stop: embedded.stop };
}

/** Create and migrate `bench_<scenario>_<random>`. */
export async function freshBenchDatabase(server: BenchServer, scenario: string): Promise<BenchDatabase> {
  const name = `bench_${scenario.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = server.urlFor(name);
  await runMigrations(url, [ENGINE_MIGRATIONS, foodDeliveryMigrations]);
  return {
    name,
    url,
    async drop() {
      const a = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
