/**
 * Who may read and move an order: role scopes on every operation, and row
 * checks inside (a customer's own orders, a restaurant's own, a driver's
 * assigned ones). Every refusal is FORBIDDEN and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { ids, ok, orderAt, Q, refused, writeState, type OrderView, type Tokens } from '../support/orders.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;

useTestApi({ seed: true }, (env) => ({ db, api, tokens } = env));

/** The operation as `who` must fail with `code`, and the database must be exactly as before. */
async function expectRefused(who: keyof Tokens, query: string, variables: Record<string, unknown>, code = 'FORBIDDEN'): Promise<string> {
  const before = await writeState(db);
  const error = refused(await api.gql(query, variables, tokens[who]));
  expect(error.code).toBe(code);
  expect(await writeState(db)).toEqual(before);
  return error.message;
}

describe('reading an order', () => {
  it('each role sees the orders that are theirs, service and admin see all, others get FORBIDDEN', async () => {
    const order = await orderAt(api, tokens, 'driver_assigned');
    for (const who of ['alice', 'napoli', 'dana', 'service', 'admin'] as const) {
      expect(ok(await api.gql<{ order: OrderView }>(Q.order, { id: order.id }, tokens[who])).order.id, who).toBe(order.id);
    }
    for (const who of ['bob', 'sakura', 'eli'] as const) {
      expect(await expectRefused(who, Q.order, { id: order.id }), who).toBe(`Order ${order.id} is not yours`);
    }
  });

  it('an order that does not exist is null, not an error', async () => {
    const res = await api.gql<{ order: null }>(Q.order, { id: '00000000-0000-4000-8000-00ff00000000' }, tokens.alice);
    expect(ok(res).order).toBeNull();
  });

  it('the list queries are for their own role only', async () => {
    const lists = {
      myOrders: '{ myOrders { edges { node { id } } } }',
      restaurantOrders: '{ restaurantOrders { edges { node { id } } } }',
      driverJobs: '{ driverJobs { edges { node { id } } } }',
      drivers: '{ drivers { id } }',
    };
    const allowed: Record<keyof typeof lists, Array<keyof Tokens>> = {
      myOrders: ['alice'],
      restaurantOrders: ['napoli'],
      driverJobs: ['dana'],
      drivers: ['service', 'admin'],
    };
    for (const [field, query] of Object.entries(lists) as Array<[keyof typeof lists, string]>) {
      for (const who of ['alice', 'napoli', 'dana', 'service', 'admin'] as const) {
        const res = await api.gql(query, {}, tokens[who]);
        if (allowed[field].includes(who)) expect(res.errors, `${who} ${field}`).toBeUndefined();
        else expect(res.errors?.[0]?.extensions?.code, `${who} ${field}`).toBe('FORBIDDEN');
      }
    }
  });

  it("a customer's e-mail is shown to themself, the service and admins only", async () => {
    const order = await orderAt(api, tokens, 'placed');
    const query = `query($id: ID!) { order(id: $id) { customer { id name email } } }`;
    const email = async (who: keyof Tokens) => ok(await api.gql<{ order: { customer: { email: string | null } } }>(query, { id: order.id }, tokens[who])).order.customer.email;
    expect(await email('alice')).toBe('alice@example.com');
    expect(await email('service')).toBe('alice@example.com');
    expect(await email('napoli')).toBeNull();
  });
});

describe('moving an order', () => {
  it("customer B can't pay customer A's order (and learns nothing of its status)", async () => {
    const placed = await orderAt(api, tokens, 'placed');
    expect(await expectRefused('bob', Q.pay, { orderId: placed.id })).toBe(`Order ${placed.id} is not yours`);
    const validated = await orderAt(api, tokens, 'validated');
    await expectRefused('bob', Q.pay, { orderId: validated.id });
  });

  it('a customer may not approve, decline, write back results or assign drivers', async () => {
    const paid = await orderAt(api, tokens, 'paid');
    const [payment] = await db.sql`select id from payments where order_id = ${paid.id}`;
    await expectRefused('alice', Q.approve, { orderId: paid.id });
    await expectRefused('alice', Q.decline, { orderId: paid.id, reason: 'changed my mind' });
    await expectRefused('alice', Q.payResult, { paymentId: payment!.id, succeeded: false, reason: 'forged' });
    await expectRefused('alice', Q.validate, { orderId: paid.id, valid: false, reason: 'forged' });
    await expectRefused('alice', Q.assign, { orderId: paid.id, driverId: ids.dana });
  });

  it("a restaurant can't approve or decline another restaurant's order", async () => {
    const paid = await orderAt(api, tokens, 'paid');
    expect(await expectRefused('sakura', Q.approve, { orderId: paid.id })).toBe(`Order ${paid.id} is not yours`);
    await expectRefused('sakura', Q.decline, { orderId: paid.id, reason: 'not ours' });
    const [row] = await db.sql`select status from orders where id = ${paid.id}`;
    expect(row?.status).toBe('paid');
    ok(await api.gql(Q.approve, { orderId: paid.id }, tokens.napoli));
  });

  it("a driver can't pick up or deliver an order assigned to someone else", async () => {
    const assigned = await orderAt(api, tokens, 'driver_assigned');
    await expectRefused('eli', Q.pickUp, { orderId: assigned.id });
    ok(await api.gql(Q.pickUp, { orderId: assigned.id }, tokens.dana));
    expect(await expectRefused('eli', Q.deliver, { orderId: assigned.id })).toBe(`Order ${assigned.id} is not yours`);
    const [row] = await db.sql`select status from orders where id = ${assigned.id}`;
    expect(row?.status).toBe('picked_up');
  });

  it('the service and admins do not act for customers, restaurants or drivers', async () => {
    const paid = await orderAt(api, tokens, 'paid');
    await expectRefused('service', Q.approve, { orderId: paid.id });
    await expectRefused('admin', Q.approve, { orderId: paid.id });
    await expectRefused('admin', Q.place, { input: { restaurantId: ids.napoli, deliveryAddress: 'x', items: [{ menuItemId: ids.margherita, quantity: 1 }] } });
  });

  it('NOT_FOUND for an order or payment that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-00ff00000001';
    expect(await expectRefused('napoli', Q.approve, { orderId: missing }, 'NOT_FOUND')).toBe(`Order ${missing} was not found`);
    await expectRefused('service', Q.payResult, { paymentId: missing, succeeded: true }, 'NOT_FOUND');
    const approved = await orderAt(api, tokens, 'approved');
    await expectRefused('service', Q.assign, { orderId: approved.id, driverId: missing }, 'NOT_FOUND');
  });

  it('a token whose subject is no row id owns nothing', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const stranger = await api.token('customer', 'not-a-uuid');
    expect(refused(await api.gql(Q.pay, { orderId: order.id }, stranger)).code).toBe('FORBIDDEN');
    expect(ok(await api.gql<{ myOrders: { edges: unknown[] } }>('{ myOrders { edges { cursor } } }', {}, stranger)).myOrders.edges).toEqual([]);
    const placing = refused(await api.gql(Q.place, { input: { restaurantId: ids.napoli, deliveryAddress: 'x', items: [{ menuItemId: ids.margherita, quantity: 1 }] } }, stranger));
    expect(placing.code).toBe('NOT_FOUND');
  });

  it('without a token, a mutation is refused with 401 before anything runs', async () => {
    const before = await writeState(db);
    const res = await api.gql(Q.approve, { orderId: '00000000-0000-4000-8000-00ff00000001' });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await writeState(db)).toEqual(before);
  });
});
