/**
 * A mutation writes all of its rows and its one event, or nothing: refused
 * input, refused items and a failure inside the transaction (a trigger that
 * raises while the event is inserted) leave no row and no event behind.
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

const input = (over: Record<string, unknown> = {}) => ({
  restaurantId: ids.napoli,
  deliveryAddress: '1 Test Lane',
  items: [{ menuItemId: ids.margherita, quantity: 1 }],
  ...over,
});

/** placeOrder as Alice must be refused with `code` and a message matching `message`, writing nothing. */
async function placeRefused(variables: Record<string, unknown>, code: string, message: RegExp): Promise<void> {
  const before = await writeState(db);
  const error = refused(await api.gql(Q.place, variables, tokens.alice));
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(await writeState(db)).toEqual(before);
}

describe('placeOrder input is checked before anything is written (BAD_USER_INPUT)', () => {
  it.each([
    ['no items', input({ items: [] }), /items: must contain at least one item/],
    ['51 lines', input({ items: Array.from({ length: 51 }, () => ({ menuItemId: ids.margherita, quantity: 1 })) }), /items: must contain at most 50 items/],
    ['quantity 0', input({ items: [{ menuItemId: ids.margherita, quantity: 0 }] }), /items\.0\.quantity: must be at least 1/],
    ['quantity 100', input({ items: [{ menuItemId: ids.margherita, quantity: 100 }] }), /items\.0\.quantity: must be at most 99/],
    ['a menu item id that is no UUID', input({ items: [{ menuItemId: 'pizza', quantity: 1 }] }), /items\.0\.menuItemId: must be a UUID/],
    ['a restaurant id that is no UUID', input({ restaurantId: "1' or '1'='1" }), /restaurantId: must be a UUID/],
    ['an empty address', input({ deliveryAddress: '   ' }), /deliveryAddress: must not be empty/],
    ['an address over 500 characters', input({ deliveryAddress: 'x'.repeat(501) }), /deliveryAddress: must be at most 500 characters/],
    ['the same menu item twice', input({ items: [{ menuItemId: ids.margherita, quantity: 1 }, { menuItemId: ids.margherita, quantity: 2 }] }), /items: must name each menu item once/],
  ])('%s', async (_name, given, message) => {
    await placeRefused({ input: given }, 'BAD_USER_INPUT', message);
  });

  it('an unknown menu item', async () => {
    const unknown = '00000000-0000-4000-8000-000399999999';
    await placeRefused({ input: input({ items: [{ menuItemId: unknown, quantity: 1 }] }) }, 'BAD_USER_INPUT', new RegExp(`Menu item ${unknown} does not exist`));
  });

  it('an unknown restaurant', async () => {
    const unknown = '00000000-0000-4000-8000-000299999999';
    await placeRefused({ input: input({ restaurantId: unknown }) }, 'BAD_USER_INPUT', new RegExp(`Restaurant ${unknown} does not exist`));
  });

  it("an item from another restaurant's menu, even beside valid ones", async () => {
    const items = [
      { menuItemId: ids.margherita, quantity: 1 },
      { menuItemId: ids.nigiri, quantity: 1 },
    ];
    await placeRefused({ input: input({ items }) }, 'BAD_USER_INPUT', /Menu item .* is not on Pizzeria Napoli's menu/);
  });

  it('an item that is not available', async () => {
    await placeRefused({ input: input({ restaurantId: ids.elSol, items: [{ menuItemId: ids.churros, quantity: 1 }] }) }, 'BAD_USER_INPUT', /Menu item Churros is not available/);
  });

  it('a price sent by the client is not even part of the input', async () => {
    const items = [{ menuItemId: ids.margherita, quantity: 1, unitPriceCents: 1 }];
    const res = await api.gql(Q.place, { input: input({ items }) }, tokens.alice);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.message).toMatch(/unitPriceCents/);
  });
});

describe('a failure inside the transaction rolls back the rows written before it', () => {
  /** Make inserting an event of `type` raise, for the duration of `fn`, in this test's own database. */
  async function withFailingEvent(type: string, fn: () => Promise<void>): Promise<void> {
    await db.sql.unsafe(`
      create function fail_event() returns trigger language plpgsql as $$
      begin raise exception 'refusing event %', new.type; end $$;
      create trigger fail_event before insert on threefactor.events for each row
        when (new.type = '${type}') execute function fail_event();`);
    try {
      await fn();
    } finally {
      await db.sql.unsafe('drop trigger fail_event on threefactor.events; drop function fail_event();');
    }
  }

  it('placeOrder: no order, no order_items, no event; the client sees a masked error', async () => {
    const before = await writeState(db);
    await withFailingEvent('order.placed', async () => {
      const res = await api.gql(Q.place, { input: input() }, tokens.alice);
      expect(res.data).toBeNull();
      expect(res.errors?.[0]?.message).toBe('Unexpected error.');
      expect(JSON.stringify(res.errors)).not.toMatch(/refusing event/);
    });
    expect(await writeState(db)).toEqual(before);
    // And the same mutation works once the fault is gone.
    ok(await api.gql(Q.place, { input: input() }, tokens.alice));
    expect((await writeState(db)).events).toBe(before.events + 1);
  });

  it('recordPaymentResult: the payment stays pending and the order unpaid when the event fails', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const before = await writeState(db);
    await withFailingEvent('order.paid', async () => {
      const res = await api.gql(Q.payResult, { paymentId: payment.id, succeeded: true, providerRef: 'ch_x' }, tokens.service);
      expect(res.errors).toHaveLength(1);
    });
    expect(await writeState(db)).toEqual(before);
    const [row] = await db.sql`select status, provider_ref from payments where id = ${payment.id}`;
    expect(row).toEqual({ status: 'pending', provider_ref: null });
    // A redelivered handler then succeeds.
    const paid = ok(await api.gql<{ recordPaymentResult: OrderView }>(Q.payResult, { paymentId: payment.id, succeeded: true, providerRef: 'ch_x' }, tokens.service));
    expect(paid.recordPaymentResult.status).toBe('paid');
  });

  it('assignDriver: no driver_assignments row and the order keeps no driver when the event fails', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const before = await writeState(db);
    await withFailingEvent('order.driver_assigned', async () => {
      expect((await api.gql(Q.assign, { orderId: order.id, driverId: ids.eli }, tokens.service)).errors).toHaveLength(1);
    });
    expect(await writeState(db)).toEqual(before);
    const [row] = await db.sql`select status, driver_id from orders where id = ${order.id}`;
    expect(row).toEqual({ status: 'approved', driver_id: null });
  });
});
