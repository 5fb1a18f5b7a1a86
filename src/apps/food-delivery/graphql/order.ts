/**
 * The Order type and the ways to read orders: one by id, and keyset-paged
 * lists for a customer, a restaurant and a driver. Related objects are added
 * by their own modules (orderItem, customer, driver, payment, restaurant),
 * all batched through dataloaders. Who sees which order is the rule in
 * domain/orderAccess.
 */
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder, uuid } from '../../../engine/index.js';
import { orderCursor, pageOrders } from '../db/orderPage.js';
import { ORDER_STATUSES, type Order } from '../db/schema.js';
import { findOrderFor, orderScope } from '../domain/orderAccess.js';
import { fromDomain } from './errors.js';

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
      description:
        'Why the order was rejected, declined, cancelled (customer_cancel) or its payment failed; on a refunded order one of declined, restaurant_timeout, no_driver, customer_cancel.',
    }),
    version: t.exposeInt('version', { description: 'Bumped by one on every change.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
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
    resolve: (_root, { id }, ctx) => fromDomain(() => findOrderFor(ctx, id)),
  }),
  myOrders: t.connection(
    {
      type: OrderRef,
      description: "The customer's own orders, newest first.",
      authScopes: { role: 'customer' },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection({ args, toCursor: orderCursor, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
          pageOrders(ctx.database.db, { scope: orderScope(ctx.viewer) }, page),
        ),
    },
    OrderConnection,
  ),
}));

builder.queryFields((t) => {
  /** The viewer's own orders, optionally of one status. */
  const ownOrdersByStatus = (role: 'restaurant' | 'driver', description: string) =>
    t.connection(
      {
        type: OrderRef,
        description,
        authScopes: { role },
        args: { status: t.arg({ type: OrderStatusEnum, required: false }) },
        resolve: (_root, args, ctx) =>
          resolveCursorConnection({ args, toCursor: orderCursor, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
            pageOrders(ctx.database.db, { scope: orderScope(ctx.viewer), status: args.status }, page),
          ),
      },
      OrderConnection,
    );
  return {
    restaurantOrders: ownOrdersByStatus('restaurant', "The restaurant's own orders, newest first, optionally of one status."),
    driverJobs: ownOrdersByStatus('driver', 'Orders assigned to the driver, newest first, optionally of one status.'),
  };
});
