/**
 * Live order feeds: each time one of the orders in a feed changes, its new
 * state (the client keys them by id; `version` orders them).
 * - `restaurantOrders`: orders placed with the viewer's restaurant (service
 *   and admin name the restaurant);
 * - `driverJobs`: orders assigned to the viewer, the driver (service and
 *   admin name the driver). Orders still waiting for a driver are not in it:
 *   a driver may only see orders assigned to them (orderAccess), and the
 *   assign-driver handler, not the driver, picks who gets a job.
 * A feed carries changes from the moment of subscribing: a client that
 * subscribes first and then runs the `restaurantOrders`/`driverJobs` query
 * misses nothing (keep, per id, the state with the higher version).
 * A slow client keeps only the newest state per order; if more than
 * SUBSCRIPTION_BUFFER orders are pending, the feed ends with SLOW_CONSUMER
 * (subscribe again and re-query). Identical WebSocket subscriptions share an
 * execution.
 */
import { badInput, builder, forbidden, liveSubscription, uuid, type Admission, type Context, type Viewer } from '../../../engine/index.js';
import type { Order } from '../db/schema.js';
import { canViewOrder } from '../domain/orderAccess.js';
import { driverTopic, restaurantTopic } from '../realtime.js';
import { liveOrders } from './liveOrders.js';
import { OrderRef } from './order.js';

/** A feed carries the orders this viewer may see, and quietly skips the rest. */
const visible = (order: Order, viewer: Viewer): Admission => (canViewOrder(viewer, order) ? 'send' : 'skip');

/** The subject a feed is about: the viewer's own id for its role, or the one named by service/admin. */
function feedSubject(ctx: Context, ownRole: 'restaurant' | 'driver', given: string | null | undefined, argName: string): string {
  if (ctx.viewer.role === ownRole) {
    if (given && given !== ctx.viewer.sub) throw forbidden(`You may only watch your own ${ownRole === 'restaurant' ? 'orders' : 'jobs'}`);
    return ctx.viewer.sub;
  }
  if (!given) throw badInput(`${argName} is required for role ${ctx.viewer.role}`, argName);
  return given;
}

builder.subscriptionFields((t) => ({
  restaurantOrders: t.field({
    type: OrderRef,
    description: "A restaurant's orders as they change (restaurant: its own; service/admin: pass restaurantId).",
    authScopes: { role: ['restaurant', 'service', 'admin'] },
    args: { restaurantId: t.arg.id({ required: false, validate: uuid.optional() }) },
    ...liveSubscription({
      kind: 'restaurantOrders',
      shape: 'feed',
      rows: liveOrders,
      topic: (args: { restaurantId?: string | null }, ctx) =>
        restaurantTopic(feedSubject(ctx, 'restaurant', args.restaurantId, 'restaurantId')),
      admit: visible,
    }),
  }),
  driverJobs: t.field({
    type: OrderRef,
    description: 'Orders assigned to a driver as they change (driver: their own; service/admin: pass driverId).',
    authScopes: { role: ['driver', 'service', 'admin'] },
    args: { driverId: t.arg.id({ required: false, validate: uuid.optional() }) },
    ...liveSubscription({
      kind: 'driverJobs',
      shape: 'feed',
      rows: liveOrders,
      topic: (args: { driverId?: string | null }, ctx) => driverTopic(feedSubject(ctx, 'driver', args.driverId, 'driverId')),
      admit: visible,
    }),
  }),
}));
