/**
 * Reading orders: keyset pages newest first (ties on created_at broken by
 * id, at microsecond precision), each viewer's list holding only its own
 * orders, and related objects loaded in batches rather than per order.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import { describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { ids, ok, orderAt, placeNapoliOrder, Q, refused, type Tokens } from '../support/orders.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
/** SQL statements the API has sent, counted by a drizzle logger on the API's own client. */
let statements = 0;

useTestApi(
  { seed: true, serve: (fresh) => ({ ...fresh, db: drizzle({ client: fresh.sql, logger: { logQuery: () => void statements++ } }) }) },
  (env) => ({ db, api, tokens } = env),
);

interface Page {
  edges: Array<{ cursor: string; node: { id: string; customer: { id: string } } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const MY_ORDERS = `query($first: Int, $after: String, $last: Int, $before: String) {
  myOrders(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id customer { id } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }`;

async function myOrders(token: string, args: Record<string, unknown>): Promise<Page> {
  return ok(await api.gql<{ myOrders: Page }>(MY_ORDERS, args, token)).myOrders;
}

/** Walk every page forward, `size` at a time. */
async function allForward(token: string, size: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await myOrders(token, { first: size, after });
    seen.push(...page.edges.map((e) => e.node.id));
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('myOrders', () => {
  it("pages through the customer's own orders only, newest first, with no gaps or repeats", async () => {
    const carla = await api.token('customer', '00000000-0000-4000-8000-000100000003');
    for (let i = 0; i < 5; i++) await placeNapoliOrder(api, carla);
    await placeNapoliOrder(api, tokens.bob);
    const expected = (await db.sql`
      select id from orders where customer_id = '00000000-0000-4000-8000-000100000003'
      order by created_at desc, id desc`).map((r) => r.id as string);
    expect(expected).toHaveLength(5);

    const first = await myOrders(carla, { first: 2 });
    expect(first.edges.map((e) => e.node.id)).toEqual(expected.slice(0, 2));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await myOrders(carla, { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.id)).toEqual(expected.slice(2, 4));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = await myOrders(carla, { first: 2, after: second.pageInfo.endCursor });
    expect(third.edges.map((e) => e.node.id)).toEqual(expected.slice(4));
    expect(third.pageInfo.hasNextPage).toBe(false);

    // Backwards from the end of the second page.
    const back = await myOrders(carla, { last: 3, before: second.pageInfo.endCursor });
    expect(back.edges.map((e) => e.node.id)).toEqual(expected.slice(0, 3));

    expect(await allForward(carla, 3)).toEqual(expected);
    expect(third.edges.every((e) => e.node.customer.id === '00000000-0000-4000-8000-000100000003')).toBe(true);
  });

  it('orders sharing a created_at, or a microsecond apart, are each returned once, in (created_at, id) order', async () => {
    const dora = '00000000-0000-4000-8000-000100000099';
    await db.sql`insert into customers (id, name, email) values (${dora}, 'Dora', 'dora@example.com')`;
    const token = await api.token('customer', dora);
    await db.sql`
      insert into orders (customer_id, restaurant_id, total_cents, delivery_address, created_at)
      select ${dora}, ${ids.napoli}, 100, 'tie',
             timestamptz '2030-01-01 12:00:00.000001+00' + (case when g <= 4 then interval '0' else interval '1 microsecond' end)
      from generate_series(1, 7) g`;
    const expected = (await db.sql`select id from orders where customer_id = ${dora} order by created_at desc, id desc`).map((r) => r.id as string);
    expect(await allForward(token, 1)).toEqual(expected);
    expect(await allForward(token, 2)).toEqual(expected);
  });

  it('refuses a forged cursor and a negative page size', async () => {
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    const bad = refused(await api.gql(MY_ORDERS, { first: 2, after: forged }, tokens.alice));
    expect(bad).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(bad.message).toMatch(/^Invalid cursor/);
    const negative = await api.gql(MY_ORDERS, { first: -1 }, tokens.alice);
    expect(negative.errors?.[0]?.message).toBe('Argument "first" must be a non-negative integer');
  });

  it('caps a page at 100 orders', async () => {
    const fay = '00000000-0000-4000-8000-000100000097';
    await db.sql`insert into customers (id, name, email) values (${fay}, 'Fay', 'fay@example.com')`;
    await db.sql`
      insert into orders (customer_id, restaurant_id, total_cents, delivery_address)
      select ${fay}, ${ids.elSol}, 100, 'bulk' from generate_series(1, 101)`;
    const page = await myOrders(await api.token('customer', fay), { first: 1000 });
    expect(page.edges).toHaveLength(100);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('loads related objects in batches: the statement count does not grow with the page size', async () => {
    const erin = '00000000-0000-4000-8000-000100000098';
    await db.sql`insert into customers (id, name, email) values (${erin}, 'Erin', 'erin@example.com')`;
    const token = await api.token('customer', erin);
    const query = `query($first: Int) { myOrders(first: $first) { edges { node {
      id items { name } restaurant { name menu { name } } customer { name } driver { name } payments { status order { id } } } } } }`;
    const count = async (first: number) => {
      const before = statements;
      const page = ok(await api.gql<{ myOrders: Page }>(query, { first }, token)).myOrders;
      return { rows: page.edges.length, statements: statements - before };
    };
    for (let i = 0; i < 2; i++) await placeNapoliOrder(api, token);
    const small = await count(2);
    for (let i = 0; i < 8; i++) await placeNapoliOrder(api, token);
    const large = await count(10);
    expect([small.rows, large.rows]).toEqual([2, 10]);
    // One page query plus one per related list or object (items, restaurant, menu, customer, payments, payment order).
    expect(small.statements).toBeGreaterThanOrEqual(6);
    expect(large.statements).toBe(small.statements);
  });
});

describe('restaurantOrders and driverJobs', () => {
  it("a restaurant sees its own orders, filtered by status; a driver sees the orders assigned to them", async () => {
    const paid = await orderAt(api, tokens, 'paid', 'bob');
    const assigned = await orderAt(api, tokens, 'driver_assigned', 'bob');
    const list = `query($status: OrderStatus) { restaurantOrders(first: 100, status: $status) { edges { node { id status restaurant { id } } } } }`;
    type L = { restaurantOrders: { edges: Array<{ node: { id: string; status: string; restaurant: { id: string } } }> } };
    const all = ok(await api.gql<L>(list, {}, tokens.napoli)).restaurantOrders.edges.map((e) => e.node);
    expect(all.map((o) => o.id)).toEqual(expect.arrayContaining([paid.id, assigned.id]));
    expect(all.every((o) => o.restaurant.id === ids.napoli)).toBe(true);
    const [{ n }] = (await db.sql`select count(*)::int as n from orders where restaurant_id = ${ids.napoli}`) as unknown as [{ n: number }];
    expect(all).toHaveLength(n);

    const onlyPaid = ok(await api.gql<L>(list, { status: 'paid' }, tokens.napoli)).restaurantOrders.edges.map((e) => e.node);
    expect(onlyPaid.map((o) => o.id)).toContain(paid.id);
    expect(onlyPaid.every((o) => o.status === 'paid')).toBe(true);
    expect(ok(await api.gql<L>(list, {}, tokens.sakura)).restaurantOrders.edges).toEqual([]);

    const jobs = `{ driverJobs { edges { node { id driver { id } } } } }`;
    type J = { driverJobs: { edges: Array<{ node: { id: string; driver: { id: string } } }> } };
    const dana = ok(await api.gql<J>(jobs, {}, tokens.dana)).driverJobs.edges.map((e) => e.node);
    expect(dana.map((o) => o.id)).toContain(assigned.id);
    expect(dana.every((o) => o.driver.id === ids.dana)).toBe(true);
    expect(ok(await api.gql<J>(jobs, {}, tokens.eli)).driverJobs.edges).toEqual([]);
  });

  it('drivers(available) lists drivers for the service', async () => {
    await db.sql`update drivers set available = false where id = ${ids.eli}`;
    const list = `query($available: Boolean) { drivers(available: $available) { id available } }`;
    type D = { drivers: Array<{ id: string; available: boolean }> };
    const free = ok(await api.gql<D>(list, { available: true }, tokens.service)).drivers;
    expect(free.map((d) => d.id)).not.toContain(ids.eli);
    expect(free.every((d) => d.available)).toBe(true);
    expect(ok(await api.gql<D>(list, { available: false }, tokens.service)).drivers.map((d) => d.id)).toEqual([ids.eli]);
    expect(ok(await api.gql<D>(list, {}, tokens.admin)).drivers).toHaveLength(3);
  });
});

describe('ids in arguments', () => {
  it('a malformed id is BAD_USER_INPUT, never a database error', async () => {
    for (const query of [Q.order, `query($id: ID!) { restaurant(id: $id) { id } }`]) {
      const error = refused(await api.gql(query, { id: "1' or 1=1 --" }, tokens.alice));
      expect(error).toEqual({ code: 'BAD_USER_INPUT', message: 'id: must be a UUID' });
    }
  });
});
