/**
 * Behind a real PgBouncer (Debian's 1.18) in transaction mode, with fewer
 * server connections than concurrent writers: the whole engine runs through
 * it, `start` in all-in-one mode on an empty database. The migrations, the
 * API's mutations and queries, the dispatcher delivering to the handler
 * functions and their write-backs through the API, and a live subscription,
 * with LISTEN and the session advisory locks on DATABASE_DIRECT_URL. A light
 * load would pass by luck (PgBouncer tends to hand a client the server
 * connection it had last), hence rounds of concurrent writers. First, the
 * pool alone: statements issued together on one connection all answer
 * (pipelined, one would lose its reply and hang the connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/engine/db/client.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ids, Q } from '../support/orders.js';
import { pgbouncerMissing, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { startAllInOne, type CommandProcess } from '../support/processes.js';
import { wsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const missing = pgbouncerMissing();
if (missing) console.warn(`test/db/pgbouncer.test.ts skipped: ${missing}`);

/** Server connections PgBouncer may open to the database, and the clients competing for them. */
const POOL_SIZE = 2;
const WRITERS = 20;
const ROUNDS = 3;

const RESTAURANT_FEED = 'subscription { restaurantOrders { id status version } }';
type Live = { id: string; status: string; version: number };

interface GqlBody<T> {
  data?: T;
  errors?: Array<{ message: string }>;
}

describe.skipIf(missing !== undefined)('a transaction-mode pool through PgBouncer', () => {
  let db: TestDatabase | undefined;
  let bouncer: PgBouncer | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    bouncer = await startPgBouncer({ poolSize: POOL_SIZE });
  });
  afterAll(async () => {
    await bouncer?.stop();
    await db?.drop();
  });

  it('answers queries issued together on one connection (nothing pipelined behind a query in flight)', async () => {
    const database = connect(bouncer!.urlFor(db!.name), { max: 1, poolMode: 'transaction', directUrl: urlFor(db!.name) });
    try {
      const load = Array.from({ length: 4 }, () => connect(bouncer!.urlFor(db!.name), { max: 2, poolMode: 'transaction', directUrl: urlFor(db!.name) }));
      try {
        const busy = load.map(async (other) => {
          for (let i = 0; i < 50; i++) await other.sql.begin((tx) => tx`select pg_sleep(0.001)`);
        });
        // A query without parameters, then one with (postgres.js describes it first: Flush, no Sync).
        const rounds = (async () => {
          for (let i = 0; i < 200; i++) {
            const [[a], [b]] = await Promise.all([database.sql<{ n: number }[]>`select 1 as n`, database.sql<{ n: number }[]>`select ${i}::int as n`]);
            expect([a!.n, b!.n]).toEqual([1, i]);
          }
        })();
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('a query hung for 30 s')), 30_000)));
        try {
          await Promise.race([Promise.all([rounds, ...busy]), hung]);
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await Promise.all(load.map((other) => other.close(1)));
      }
    } finally {
      await database.close(1);
    }
  }, 60_000);
});

describe.skipIf(missing !== undefined)('behind PgBouncer in transaction mode', () => {
  let db: TestDatabase | undefined;
  let bouncer: PgBouncer | undefined;
  let proc: CommandProcess | undefined;
  let baseUrl = '';

  beforeAll(async () => {
    // Empty: `start` migrates it, under the advisory lock, on the direct URL.
    db = await freshDatabase({ empty: true });
    bouncer = await startPgBouncer({ poolSize: POOL_SIZE });
    ({ proc, baseUrl } = await startAllInOne(bouncer.urlFor(db.name), {
      DATABASE_DIRECT_URL: urlFor(db.name),
      DATABASE_POOL_MODE: 'transaction',
      DATABASE_POOL_MAX: String(WRITERS),
      // Retention reports its passes at debug.
      LOG_LEVEL: 'debug',
    }));
  }, 90_000);

  afterAll(async () => {
    if (proc) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await bouncer?.stop();
    await db?.drop();
  });

  const loggedErrors = () => JSON.stringify(proc!.logs.filter((l) => Number(l.level) >= 50).slice(-3)).slice(0, 1500);

  async function gql<T>(token: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      // A request stuck behind the pool fails the test with what the process logged, not by the test's timeout.
      signal: AbortSignal.timeout(30_000),
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; errors logged: ${loggedErrors()}`);
    });
    const body = (await res.json()) as GqlBody<T>;
    if (body.errors || res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors)}; errors logged: ${loggedErrors()}`);
    return body.data!;
  }

  /** `WRITERS` at a time, until every item is done. */
  async function inWaves<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = [];
    for (let i = 0; i < items.length; i += WRITERS) results.push(...(await Promise.all(items.slice(i, i + WRITERS).map(run))));
    return results;
  }

  async function untilAllAt(orderIds: string[], status: string): Promise<void> {
    let seen = 0;
    try {
      await waitFor(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          [{ n: seen }] = await db!.sql<[{ n: number }]>`select count(*)::int as n from orders where id = any(${orderIds}::uuid[]) and status = ${status}`;
          return seen === orderIds.length;
        },
        `${orderIds.length} orders ${status}`,
        90_000,
      );
    } catch (err) {
      throw new Error(`${String(err)}: ${seen} are; errors logged: ${loggedErrors()}`);
    }
  }

  it(`runs mutations, queries, deliveries, write-backs and a live subscription, ${WRITERS} writers on ${POOL_SIZE} server connections`, async () => {
    const customer = await mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice });
    const restaurant = await mintToken(TEST_SECRET, { role: 'restaurant', sub: ids.napoli });
    const ws = wsSession(baseUrl, restaurant);
    try {
      const feed = ws.subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);

      // Mutations: each one a transaction with named-statement candidates (drizzle's .prepare) and an event.
      const orderIds: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const placed = await inWaves(Array.from({ length: WRITERS }), () =>
          gql<{ placeOrder: { id: string } }>(customer, Q.place, {
            input: { restaurantId: ids.napoli, items: [{ menuItemId: ids.margherita, quantity: 2 }], deliveryAddress: `${round} Pool St` },
          }),
        );
        orderIds.push(...placed.map((p) => p.placeOrder.id));
      }
      // The dispatcher delivers order.placed to validate-order, which writes back through the API.
      await untilAllAt(orderIds, 'validated');

      // Queries, as many at once.
      const read = await inWaves(orderIds, (id) => gql<{ order: { id: string; status: string } }>(customer, Q.order, { id }));
      expect(read.map((r) => r.order.status)).toEqual(orderIds.map(() => 'validated'));

      // The feed is live (it has seen validations), so from here on it misses nothing.
      await feed.until((f) => f.data.length > 0, 30_000, 'the restaurant feed to carry a change');
      await inWaves(orderIds, (orderId) => gql(customer, Q.pay, { orderId }));
      await untilAllAt(orderIds, 'paid');
      const latest = () => {
        const byId = new Map<string, Live>();
        for (const { restaurantOrders: o } of feed.data) if ((byId.get(o.id)?.version ?? -1) < o.version) byId.set(o.id, o);
        return byId;
      };
      await feed.until((f) => !f.completed && orderIds.every((id) => latest().get(id)?.status === 'paid'), 30_000, 'every order paid on the feed');
      expect(feed.failure).toBeUndefined();

      const deliveries = await db!.sql<{ trigger_name: string; status: string; n: number }[]>`
        select d.trigger_name, d.status, count(*)::int as n
        from threefactor.deliveries d join threefactor.events e on e.id = d.event_id
        where e.aggregate_id = any(${orderIds}::text[]) group by 1, 2 order by 1, 2`;
      expect(deliveries).toEqual([
        { trigger_name: 'charge-payment', status: 'delivered', n: orderIds.length },
        { trigger_name: 'validate-order', status: 'delivered', n: orderIds.length },
      ]);
    } finally {
      await ws.dispose();
    }

    // LISTEN is on the direct URL: its connection is the process's own, named for it, never one of PgBouncer's.
    const listening = await db!.sql<{ application_name: string }[]>`
      select application_name from pg_stat_activity where datname = ${db!.name} and query ilike 'listen %'`;
    expect(listening.length).toBeGreaterThan(0);
    expect(listening.map((l) => l.application_name)).toEqual(listening.map(() => 'threefactor-api-direct'));

    // Retention took its session lock (direct) and ran a pass; nothing failed anywhere.
    await proc!.waitForLog((l) => l.msg === 'retention pass done', 30_000);
    const failures = proc!.logs.filter((l) => Number(l.level) >= 50 || /prepared statement|retention pass failed/.test(JSON.stringify(l)));
    expect(failures).toEqual([]);
  }, 240_000);
});
