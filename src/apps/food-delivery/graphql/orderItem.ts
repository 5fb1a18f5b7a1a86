/**
 * OrderItem: a line of an order, with the name and unit price copied at
 * order time. Adds `Order.items`, loaded for all orders of a request at once.
 */
import { asc, inArray } from 'drizzle-orm';
import { orderItems, type OrderItem } from '../db/schema.js';
import { builder } from '../../../engine/index.js';
import { OrderRef } from './order.js';

export const OrderItemRef = builder.objectRef<OrderItem>('OrderItem').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    menuItemId: t.exposeID('menuItemId'),
    name: t.exposeString('name'),
    quantity: t.exposeInt('quantity'),
    unitPriceCents: t.exposeInt('unitPriceCents'),
  }),
});

builder.objectField(OrderRef, 'items', (t) =>
  t.loadableList({
    type: OrderItemRef,
    resolve: (order) => order.id,
    load: async (orderIds: string[], ctx) => {
      const rows = await ctx.database.db
        .select()
        .from(orderItems)
        .where(inArray(orderItems.orderId, orderIds))
        .orderBy(asc(orderItems.name), asc(orderItems.id));
      return orderIds.map((id) => rows.filter((r) => r.orderId === id));
    },
  }),
);
