/**
 * A backend killed under a transaction (what a PostgreSQL restart, a
 * failover or a proxy's reset does to a connection) fails that transaction
 * with an error its caller can catch, never the process; nothing hangs, each
 * transaction commits in full or not at all, and the pool serves on. postgres.js 3.4.9
 * crashed, hung or leaked here (patches/README.md). The kills are real:
 * pg_terminate_backend on the pool's own backends.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/engine/db/client.js';
import { startTestApi } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ids, Q, seeded, tokensFor } from '../support/orders.js';

const APP = 'threefactor-connection-loss';

let db: TestDatabase;
let pool: Database;
const escaped: unknown[] = [];
const record = (err: unknown) => escaped.push(err);

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  await db.sql`create table kill_probe (worker int not null, n int not null)`;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(() => {
  pool = connect(urlFor(db.name), { max: 10, applicationName: APP });
  escaped.length = 0;
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
});
afterEach(async () => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
  await pool.close();
});

async function usable(): Promise<unknown[]> {
  return Promise.all(Array.from({ length: 10 }, () => pool.sql`select 1 as x`.then((rows) => rows[0]?.x, (err: { code?: string }) => err.code)));
}

/** For `ms`, every `everyMs`, terminate each of the pool's backends with probability 0.3; the number killed. */
async function killAtRandom(ms: number, everyMs: number): Promise<number> {
  let kills = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const killed = await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = ${APP} and random() < 0.3`;
    kills += killed.length;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return kills;
}

/** Let any stray timer of the dead sockets fire before looking for escaped errors. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('a backend killed under a transaction', () => {
  it('fails that transaction with a connection error, again and again, and the pool serves on', async () => {
    for (let round = 0; round < 5; round++) {
      let pid: number | undefined;
      // Handled from the start: the transaction may fail before the kill's own answer is back.
      const outcome = pool.sql
        .begin(async (t) => {
          const [row] = await t<{ pid: number }[]>`select pg_backend_pid() as pid`;
          pid = row!.pid;
          await t`select pg_sleep(2)`;
        })
        .then(
          () => 'committed',
          (err: { code?: string }) => err.code,
        );
      while (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      await db.sql`select pg_terminate_backend(${pid})`;
      // The server's own notice of the kill (57P01) or the closed socket, whichever lands first.
      expect(['CONNECTION_CLOSED', '57P01']).toContain(await outcome);
      expect(await usable()).toEqual(Array(10).fill(1));
    }
    await settle();
    expect(escaped).toEqual([]);
  });

  it('settles every transaction, each in full or not at all, when backends die at random under 20 concurrent ones', async () => {
    const outcomes = new Map<string, number>();
    const committed = new Set<string>();
    let running = true;
    const worker = async (id: number) => {
      for (let n = 0; running; n++) {
        // Two rows per transaction, pipelined: a commit keeps both, anything else neither.
        const outcome = await pool.sql
          .begin((t) => [
            t`insert into kill_probe (worker, n) values (${id}, ${n})`,
            t`select pg_sleep(0.003)`,
            t`insert into kill_probe (worker, n) values (${id}, ${n})`,
          ])
          .then(
            () => 'ok',
            (err: { code?: string }) => err.code ?? 'unknown',
          );
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (outcome === 'ok') committed.add(`${id}:${n}`);
      }
    };
    const workers = Array.from({ length: 20 }, (_, id) => worker(id));
    const kills = await killAtRandom(3_000, 40);
    running = false;
    // Every worker's last transaction settles: none hangs on a dead connection.
    await Promise.all(workers);

    expect(kills).toBeGreaterThan(10);
    expect(outcomes.get('ok')).toBeGreaterThan(0);
    expect(outcomes.get('CONNECTION_CLOSED')).toBeGreaterThan(0);
    // Only the ways a killed connection shows: the closed socket, a reset, or the server's notice.
    for (const code of outcomes.keys()) expect(['ok', 'CONNECTION_CLOSED', 'ECONNRESET', '57P01']).toContain(code);
    // Atomic either way: every transaction left both rows or none, and every acknowledged
    // commit is there. (A commit whose answer died with the socket may be there too.)
    const rows = await db.sql<{ worker: number; n: number; count: number }[]>`
      select worker, n, count(*)::int as count from kill_probe group by worker, n`;
    for (const row of rows) expect(row.count).toBe(2);
    const kept = new Set(rows.map((r) => `${r.worker}:${r.n}`));
    for (const key of committed) expect(kept.has(key)).toBe(true);

    expect(await usable()).toEqual(Array(10).fill(1));
    await settle();
    expect(escaped).toEqual([]);
  });

  it('keeps the API up when its backends die under placeOrder: each order commits with its items and its event, or not at all', async () => {
    const api = await startTestApi(pool);
    const tokens = await tokensFor(api);
    const acknowledged: string[] = [];
    const failures = new Map<string, number>();
    let running = true;
    const client = async () => {
      while (running) {
        const res = await api.gql<{ placeOrder: { id: string } }>(
          Q.place,
          {
            input: {
              restaurantId: ids.napoli,
              deliveryAddress: '1 Kill Lane',
              items: [
                { menuItemId: ids.margherita, quantity: 1 },
                { menuItemId: ids.tiramisu, quantity: 2 },
              ],
            },
          },
          tokens.alice,
        );
        if (res.data?.placeOrder) acknowledged.push(res.data.placeOrder.id);
        else {
          const code = String(res.errors?.[0]?.extensions?.code ?? res.status);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
    };
    try {
      const clients = Array.from({ length: 8 }, client);
      const kills = await killAtRandom(3_000, 50);
      running = false;
      await Promise.all(clients);

      expect(kills).toBeGreaterThan(5);
      expect(acknowledged.length).toBeGreaterThan(0);
      // Failures reached their clients as retryable UNAVAILABLE errors, not as a dead process, a hang or a masked bug.
      expect(failures.size).toBeGreaterThan(0);
      expect([...failures.keys()]).toEqual(['UNAVAILABLE']);
      // Every order in the table has its two items and exactly one order.placed event; every
      // acknowledged order is among them. (An order whose answer was lost may be there too.)
      const orders = await db.sql<{ id: string; items: number; events: number }[]>`
        select o.id::text as id,
               (select count(*)::int from order_items i where i.order_id = o.id) as items,
               (select count(*)::int from threefactor.events e where e.aggregate_id = o.id::text and e.type = 'order.placed') as events
        from orders o where o.delivery_address = '1 Kill Lane'`;
      for (const order of orders) expect({ items: order.items, events: order.events }).toEqual({ items: 2, events: 1 });
      const stored = new Set(orders.map((o) => o.id));
      for (const id of acknowledged) expect(stored.has(id)).toBe(true);
      // And the API serves on.
      expect((await api.gql<{ placeOrder: { id: string } }>(Q.place, { input: { restaurantId: ids.napoli, deliveryAddress: '1 After Lane', items: [{ menuItemId: ids.margherita, quantity: 1 }] } }, tokens.alice)).data?.placeOrder.id).toBeTruthy();
      await settle();
      expect(escaped).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
