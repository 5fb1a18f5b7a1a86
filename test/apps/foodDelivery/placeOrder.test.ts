/**
 * Placing an order as a plain function: the price comes from the menu, the
 * event carries the order as placed, and every refusal is a DomainError
 * naming the input field at fault, with nothing written. The input's shape
 * and limits are the domain's zod schemas, checked here without GraphQL.
 */
import { describe, expect, it } from 'vitest';
import { orderValidationInput } from '../../../src/apps/food-delivery/domain/orderSteps.js';
import { paymentResultInput } from '../../../src/apps/food-delivery/domain/payments.js';
import { MAX_ORDER_LINES, placeOrder, placeOrderInput } from '../../../src/apps/food-delivery/domain/placeOrder.js';
import type { TestDatabase } from '../../support/db.js';
import { eventsOf, ids, writeState } from '../../support/orders.js';
import { callerFor, napoliOrder, refusal, useDomainDatabase, type Actors } from './support.js';

let db: TestDatabase;
let actors: Actors;

useDomainDatabase((database, a) => {
  db = database;
  actors = a;
});

async function refusedCleanly(work: () => Promise<unknown>) {
  const before = await writeState(db);
  const error = await refusal(work());
  expect(await writeState(db)).toEqual(before);
  return error;
}

describe('placeOrder', () => {
  it('prices the order from the menu and writes the order, its items and order.placed', async () => {
    const before = await writeState(db);
    const order = await placeOrder(actors.bob, napoliOrder);
    expect(order).toMatchObject({ status: 'placed', version: 1, totalCents: 2 * 950 + 650, customerId: ids.bob, deliveryAddress: '1 Test Lane' });
    expect(await writeState(db)).toMatchObject({ orders: before.orders + 1, order_items: before.order_items + 2, events: before.events + 1 });
    const [placed] = await eventsOf(db, order.id);
    expect(placed).toMatchObject({
      type: 'order.placed',
      payload: {
        orderId: order.id,
        status: 'placed',
        version: 1,
        customerId: ids.bob,
        restaurantId: ids.napoli,
        driverId: null,
        totalCents: 2550,
        deliveryAddress: '1 Test Lane',
        items: [
          { menuItemId: ids.margherita, quantity: 2, unitPriceCents: 950 },
          { menuItemId: ids.tiramisu, quantity: 1, unitPriceCents: 650 },
        ],
      },
    });
  });

  it('refuses an unknown restaurant, naming restaurantId', async () => {
    const unknown = '00000000-0000-4000-8000-000299999999';
    const error = await refusedCleanly(() => placeOrder(actors.alice, { ...napoliOrder, restaurantId: unknown }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', message: `Restaurant ${unknown} does not exist` });
    expect(error.details).toEqual({ field: 'restaurantId' });
  });

  it('refuses an unknown item, another restaurant’s item and an unavailable one, naming the line', async () => {
    const unknown = '00000000-0000-4000-8000-000399999999';
    const line = (menuItemId: string) => ({ menuItemId, quantity: 1 });
    expect(await refusedCleanly(() => placeOrder(actors.alice, { ...napoliOrder, items: [line(unknown)] }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: `Menu item ${unknown} does not exist`,
      details: { field: 'items.0.menuItemId' },
    });
    expect(await refusedCleanly(() => placeOrder(actors.alice, { ...napoliOrder, items: [line(ids.margherita), line(ids.nigiri)] }))).toMatchObject({
      message: `Menu item ${ids.nigiri} is not on Pizzeria Napoli's menu`,
      details: { field: 'items.1.menuItemId' },
    });
    expect(await refusedCleanly(() => placeOrder(actors.alice, { ...napoliOrder, restaurantId: ids.elSol, items: [line(ids.churros)] }))).toMatchObject({
      message: 'Menu item Churros is not available',
      details: { field: 'items.0.menuItemId' },
    });
  });

  it('a customer who is no row is NOT_FOUND, whether the subject is a UUID or not', async () => {
    for (const sub of ['not-a-uuid', '00000000-0000-4000-8000-000199999999']) {
      const error = await refusedCleanly(() => placeOrder(callerFor(db, 'customer', sub), napoliOrder));
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: `Customer ${sub} was not found`, details: { id: sub } });
    }
  });
});

describe('the input rules, checked before a rule runs', () => {
  const issue = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) => {
    expect(result.success).toBe(false);
    const first = result.error!.issues[0]!;
    return `${first.path.map(String).join('.')}: ${first.message}`;
  };

  it('placeOrderInput: lines, quantities, ids and the address', () => {
    const line = { menuItemId: ids.margherita, quantity: 1 };
    const parse = (over: Record<string, unknown>) => placeOrderInput.safeParse({ ...napoliOrder, ...over });
    expect(issue(parse({ items: [] }))).toBe('items: must contain at least one item');
    expect(issue(parse({ items: Array.from({ length: MAX_ORDER_LINES + 1 }, () => line) }))).toBe('items: must contain at most 50 items');
    expect(issue(parse({ items: [{ ...line, quantity: 0 }] }))).toBe('items.0.quantity: must be at least 1');
    expect(issue(parse({ items: [{ ...line, quantity: 100 }] }))).toBe('items.0.quantity: must be at most 99');
    expect(issue(parse({ items: [line, { ...line, quantity: 2 }] }))).toBe('items: must name each menu item once (use quantity)');
    expect(issue(parse({ restaurantId: 'napoli' }))).toBe('restaurantId: must be a UUID');
    expect(issue(parse({ deliveryAddress: '   ' }))).toBe('deliveryAddress: must not be empty');
    expect(issue(parse({ deliveryAddress: 'x'.repeat(501) }))).toBe('deliveryAddress: must be at most 500 characters');
    expect(parse({ deliveryAddress: '  1 Test Lane ' }).data?.deliveryAddress).toBe('1 Test Lane');
  });

  it('a rejection and a failed charge need a reason', () => {
    expect(issue(orderValidationInput.safeParse({ orderId: 'o', valid: false }))).toBe('reason: is required when valid is false');
    expect(orderValidationInput.safeParse({ orderId: 'o', valid: false, reason: 'late' }).success).toBe(true);
    expect(orderValidationInput.safeParse({ orderId: 'o', valid: true }).success).toBe(true);
    expect(issue(paymentResultInput.safeParse({ paymentId: 'p', succeeded: false, reason: null }))).toBe('reason: is required when succeeded is false');
    expect(paymentResultInput.safeParse({ paymentId: 'p', succeeded: true }).success).toBe(true);
  });
});
