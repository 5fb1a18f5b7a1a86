/**
 * Placing an order (a customer). The input's shape and limits are
 * `placeOrderInput`, checked before this runs; then the customer must exist,
 * the restaurant too, and every item must be on its menu and available. The
 * price comes from the menu in the database, never from the client. The
 * order, its items and `order.placed` commit together or not at all.
 */
import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { uuid, withEventTransaction } from '../../../engine/index.js';
import { customers, menuItems, orderItems, orders, restaurants, type Order } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { isUuid } from './orderAccess.js';
import { ORDER_PLACED } from './orderLifecycle.js';
import { orderEvent } from './orderTransition.js';

export const MAX_ORDER_LINES = 50;
export const MAX_QUANTITY = 99;
export const MAX_ADDRESS_LENGTH = 500;

export const placeOrderInput = z.object({
  restaurantId: uuid,
  items: z
    .array(
      z.object({
        menuItemId: uuid,
        quantity: z.number().int().min(1, 'must be at least 1').max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`),
      }),
    )
    .min(1, 'must contain at least one item')
    .max(MAX_ORDER_LINES, `must contain at most ${MAX_ORDER_LINES} items`)
    .refine((items) => new Set(items.map((i) => i.menuItemId)).size === items.length, {
      message: 'must name each menu item once (use quantity)',
    }),
  deliveryAddress: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_ADDRESS_LENGTH, `must be at most ${MAX_ADDRESS_LENGTH} characters`),
});

export type PlaceOrderInput = z.infer<typeof placeOrderInput>;

/** The viewer (a customer) places an order; refusals name the input field at fault (`items.0.menuItemId`). */
export function placeOrder(caller: Caller, input: PlaceOrderInput): Promise<Order> {
  const customerId = caller.viewer.sub;
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    // Three independent lookups, pipelined on the transaction's connection. Prepared statements
    // skip a parse-and-describe round trip each; their shapes are bounded (≤ MAX_ORDER_LINES ids).
    const [[customer], [restaurant], menu] = await Promise.all([
      isUuid(customerId)
        ? tx.select({ id: customers.id }).from(customers).where(eq(customers.id, customerId)).prepare('placeOrderCustomer').execute()
        : Promise.resolve([]),
      tx
        .select({ id: restaurants.id, name: restaurants.name })
        .from(restaurants)
        .where(eq(restaurants.id, input.restaurantId))
        .prepare('placeOrderRestaurant')
        .execute(),
      tx
        .select()
        .from(menuItems)
        .where(inArray(menuItems.id, input.items.map((i) => i.menuItemId)))
        .prepare('placeOrderMenu')
        .execute(),
    ]);
    if (!customer) throw DomainError.notFound('Customer', customerId);
    if (!restaurant) throw DomainError.badInput(`Restaurant ${input.restaurantId} does not exist`, 'restaurantId');

    const lines = input.items.map(({ menuItemId, quantity }, i) => {
      const item = menu.find((m) => m.id === menuItemId);
      const field = `items.${i}.menuItemId`;
      if (!item) throw DomainError.badInput(`Menu item ${menuItemId} does not exist`, field);
      if (item.restaurantId !== restaurant.id) throw DomainError.badInput(`Menu item ${menuItemId} is not on ${restaurant.name}'s menu`, field);
      if (!item.available) throw DomainError.badInput(`Menu item ${item.name} is not available`, field);
      return { menuItemId, name: item.name, quantity, unitPriceCents: item.priceCents };
    });

    const [order] = await tx
      .insert(orders)
      .values({
        customerId: customer.id,
        restaurantId: restaurant.id,
        deliveryAddress: input.deliveryAddress,
        totalCents: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0),
      })
      .returning()
      .prepare('placeOrderInsert')
      .execute();
    await tx.insert(orderItems).values(lines.map((l) => ({ ...l, orderId: order!.id }))).prepare('placeOrderItems').execute();
    await emit(
      orderEvent(ORDER_PLACED, order!, {
        deliveryAddress: order!.deliveryAddress,
        items: lines.map(({ menuItemId, quantity, unitPriceCents }) => ({ menuItemId, quantity, unitPriceCents })),
      }),
    );
    return order!;
  });
}
