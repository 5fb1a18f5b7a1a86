/**
 * DATABASE_POOL_MODE and DATABASE_DIRECT_URL, without a pooler: in
 * transaction mode no statement is named, neither postgres.js's own nor a
 * drizzle `.prepare(name)` (a transaction pooler may run the next statement
 * on a server connection where the name does not exist), as the server
 * itself reports in pg_prepared_statements; session-level work gets its own
 * connections on the direct URL; and the settings refuse a combination that
 * cannot work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/engine/db/client.js';
import { events } from '../../src/engine/db/schema/events.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { parseConfig } from '../../src/engine/config.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** Statements named on the pool's one connection, after a raw query, a drizzle .prepare(name) and an event write. */
async function namedAfterWrites(database: Database): Promise<number> {
  await database.sql`select ${1}::int as one`;
  await database.db.select({ id: events.id }).from(events).limit(1).prepare('probe').execute();
  await withEventTransaction(database.db, { session: null, traceContext: null, eventIds: [] }, ({ emit }) =>
    emit({ type: 'probe.written', aggregateType: 'probe', aggregateId: '1', payload: {} }),
  );
  const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
  return row!.n;
}

describe('DATABASE_POOL_MODE', () => {
  it('session (the default): statements are named and reused', async () => {
    const database = connect(urlFor(db.name), { max: 1 });
    try {
      expect(await namedAfterWrites(database)).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });

  it('transaction: no statement is named, not even a drizzle .prepare(name)', async () => {
    const database = connect(urlFor(db.name), { max: 1, poolMode: 'transaction', directUrl: urlFor(db.name) });
    try {
      expect(await namedAfterWrites(database)).toBe(0);
    } finally {
      await database.close();
    }
  });
});

describe('DATABASE_POOL_MODE=transaction pipelines nothing', () => {
  it('and transactions still get their connection on a saturated pool (begin() at max_pipeline 0)', async () => {
    const database = connect(urlFor(db.name), { max: 2, poolMode: 'transaction', directUrl: urlFor(db.name) });
    try {
      const results = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) =>
          database.sql.begin(async (tx) => {
            const [a, b] = await Promise.all([tx<{ n: number }[]>`select ${i}::int as n`, tx<{ n: number }[]>`select 1 as n`]);
            return a![0]!.n + b![0]!.n;
          }),
        ),
        ...Array.from({ length: 20 }, (_, i) => database.sql<{ n: number }[]>`select ${i}::int + 1 as n`.then((r) => r[0]!.n)),
      ]);
      expect(results).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 20 }, (_, i) => i + 1)]);
    } finally {
      await database.close();
    }
  });
});

describe('DATABASE_DIRECT_URL', () => {
  it('unset: session-level work shares the pool', async () => {
    const database = connect(urlFor(db.name), { max: 1 });
    try {
      expect(database.direct).toBe(database.sql);
    } finally {
      await database.close();
    }
  });

  it('set: LISTEN gets a connection of its own there, named for it, and close() ends both pools', async () => {
    const database = connect(urlFor(db.name), { max: 1, poolMode: 'transaction', directUrl: urlFor(db.name), applicationName: 'tf-pool-mode-test' });
    const names = async () =>
      (await db.sql<{ application_name: string; query: string }[]>`
        select application_name, query from pg_stat_activity where datname = ${db.name} and application_name like 'tf-pool-mode-test%' order by 1`).map(
        (r) => `${r.application_name}: ${r.query.split(' ')[0]!.toLowerCase()}`,
      );
    try {
      expect(database.direct).not.toBe(database.sql);
      await database.direct.listen('tf_pool_mode_test', () => {});
      await database.sql`select 1`;
      expect(await names()).toEqual(['tf-pool-mode-test: select', 'tf-pool-mode-test-direct: listen']);
    } finally {
      await database.close(1);
    }
    expect(await names()).toEqual([]);
  });
});

describe('pool settings', () => {
  const base = { NODE_ENV: 'test', DATABASE_URL: 'postgres://app@pooler:6432/app' };
  const refusal = (env: Record<string, string>) => {
    try {
      parseConfig(env);
      return 'accepted';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('default to session mode with no direct URL', () => {
    const config = parseConfig(base);
    expect(config.DATABASE_POOL_MODE).toBe('session');
    expect(config.DATABASE_DIRECT_URL).toBeUndefined();
  });

  it('refuse transaction mode without a direct URL, a direct URL without DATABASE_URL, and an unknown mode, in one line each', () => {
    expect(refusal({ ...base, DATABASE_POOL_MODE: 'transaction' })).toBe(
      'config: DATABASE_DIRECT_URL is required with DATABASE_POOL_MODE=transaction (LISTEN and session advisory locks cannot go through a transaction pooler)',
    );
    expect(refusal({ NODE_ENV: 'test', DATABASE_DIRECT_URL: 'postgres://app@db:5432/app' })).toBe(
      'config: DATABASE_DIRECT_URL needs DATABASE_URL too (the URL everything else connects to)',
    );
    expect(refusal({ ...base, DATABASE_POOL_MODE: 'statement' })).toMatch(/^config: DATABASE_POOL_MODE /);
    expect(refusal({ ...base, DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: 'postgres://app@db:5432/app' })).toBe('accepted');
  });
});
