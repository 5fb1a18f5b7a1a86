/**
 * placeOrder: a customer's new order. The input is checked by zod before the
 * resolver runs; the price comes from the menu in the database, never from
 * the client. The order, its items and `order.placed` commit together or not
 * at all.
 */
import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { customers, menuItems, orderItems, orders, restaurants, type Order } from '../db/schema.js';
import { withEventTransaction } from '../../../engine/events/transaction.js';
import { builder } from '../../../engine/graphql/builder.js';
import type { Context } from '../../../engine/graphql/context.js';
import { badInput, notFound } from '../../../engine/graphql/errors.js';
import { OrderRef } from './order.js';
import { isUuid } from '../domain/orderAccess.js';
import { ORDER_PLACED } from '../domain/orderLifecycle.js';
import { orderEvent } from '../domain/orderTransition.js';
import { uuid } from '../../../engine/graphql/modules/validators.js';

export const MAX_ORDER_LINES = 50;
export const MAX_QUANTITY = 99;

const placeOrderInput = z.object({
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
  deliveryAddress: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
});

type PlaceOrderInput = z.infer<typeof placeOrderInput>;

const OrderItemInput = builder.inputType('OrderItemInput', {
  fields: (t) => ({
    menuItemId: t.id(),
    quantity: t.int({ description: `1 to ${MAX_QUANTITY}.` }),
  }),
});

const PlaceOrderInputRef = builder
  .inputType('PlaceOrderInput', {
    fields: (t) => ({
      restaurantId: t.id(),
      items: t.field({ type: [OrderItemInput], description: `1 to ${MAX_ORDER_LINES} lines, each menu item once.` }),
      deliveryAddress: t.string({ description: '1 to 500 characters.' }),
    }),
  })
  .validate(placeOrderInput);

builder.mutationField('placeOrder', (t) =>
  t.field({
    type: OrderRef,
    description: 'Place an order (customer). Writes order.placed.',
    authScopes: { role: 'customer' },
    args: { input: t.arg({ type: PlaceOrderInputRef }) },
    resolve: (_root, { input }, ctx) => placeOrder(ctx, input),
  }),
);

async function placeOrder(ctx: Context, input: PlaceOrderInput): Promise<Order> {
  const customerId = ctx.viewer.sub;
  return withEventTransaction(ctx.database.db, ctx.events, async ({ tx, emit }) => {
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
    if (!customer) throw notFound('Customer', customerId);
    if (!restaurant) throw badInput(`Restaurant ${input.restaurantId} does not exist`, 'input.restaurantId');

    const lines = input.items.map(({ menuItemId, quantity }, i) => {
      const item = menu.find((m) => m.id === menuItemId);
      const field = `input.items.${i}.menuItemId`;
      if (!item) throw badInput(`Menu item ${menuItemId} does not exist`, field);
      if (item.restaurantId !== restaurant.id) throw badInput(`Menu item ${menuItemId} is not on ${restaurant.name}'s menu`, field);
      if (!item.available) throw badInput(`Menu item ${item.name} is not available`, field);
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
