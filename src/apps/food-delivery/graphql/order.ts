/**
 * The Order type and the ways to read orders: one by id, and keyset-paged
 * lists for a customer, a restaurant and a driver. Related objects are added
 * by their own modules (orderItem, customer, driver, payment), all batched
 * through dataloaders. Every read goes through the rule in orderAccess.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { ORDER_STATUSES, orders, restaurants, type Order } from '../db/schema.js';
import { builder } from '../../../engine/graphql/builder.js';
import { forbidden } from '../../../engine/graphql/errors.js';
import { canViewOrder, findOrder, orderScope } from '../domain/orderAccess.js';
import { orderCursor, pageOrders } from './orderPage.js';
import { RestaurantRef } from './restaurant.js';
import { uuid } from '../../../engine/graphql/modules/validators.js';

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order is in its lifecycle (see docs/architecture.md).',
  values: ORDER_STATUSES,
});

export const OrderRef = builder.objectRef<Order>('Order');

OrderRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: OrderStatusEnum }),
    totalCents: t.exposeInt('totalCents'),
    deliveryAddress: t.exposeString('deliveryAddress'),
    statusReason: t.exposeString('statusReason', {
      nullable: true,
      description: 'Why the order was rejected, declined or its payment failed.',
    }),
    version: t.exposeInt('version', { description: 'Bumped by one on every change.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    restaurant: t.loadable({
      type: RestaurantRef,
      resolve: (order) => order.restaurantId,
      load: async (ids: string[], ctx) => {
        const rows = await ctx.database.db.select().from(restaurants).where(inArray(restaurants.id, ids));
        return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Restaurant ${id} is missing`));
      },
    }),
  }),
});

export const OrderConnection = builder.connectionObject({ type: OrderRef, name: 'OrderConnection' }, { name: 'OrderEdge' });

const PAGE = { defaultSize: 20, maxSize: 100 } as const;

builder.queryFields((t) => ({
  order: t.field({
    type: OrderRef,
    nullable: true,
    description: 'An order you may see (null when there is none); FORBIDDEN when it is not yours.',
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { id }, ctx) => {
      const order = await findOrder(ctx.database.db, id);
      if (!order) return null;
      if (!canViewOrder(ctx.viewer, order)) throw forbidden(`Order ${id} is not yours`);
      return order;
    },
  }),
  myOrders: t.connection(
    {
      type: OrderRef,
      description: "The customer's own orders, newest first.",
      authScopes: { role: 'customer' },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection({ args, toCursor: orderCursor, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
          pageOrders(ctx.database.db, orderScope(ctx.viewer), page),
        ),
    },
    OrderConnection,
  ),
}));

builder.queryFields((t) => {
  /** The viewer's own orders (orderScope), optionally of one status. */
  const ownOrdersByStatus = (role: 'restaurant' | 'driver', description: string) =>
    t.connection(
      {
        type: OrderRef,
        description,
        authScopes: { role },
        args: { status: t.arg({ type: OrderStatusEnum, required: false }) },
        resolve: (_root, args, ctx) =>
          resolveCursorConnection({ args, toCursor: orderCursor, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
            pageOrders(
              ctx.database.db,
              and(orderScope(ctx.viewer), args.status ? eq(orders.status, args.status) : undefined),
              page,
            ),
          ),
      },
      OrderConnection,
    );
  return {
    restaurantOrders: ownOrdersByStatus('restaurant', "The restaurant's own orders, newest first, optionally of one status."),
    driverJobs: ownOrdersByStatus('driver', 'Orders assigned to the driver, newest first, optionally of one status.'),
  };
});
