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
 * (subscribe again and re-query).
 */
import type { Order } from '../db/schema.js';
import { unwrapDelivery, type Delivery } from '../../../engine/realtime/delivery.js';
import { LiveState } from '../../../engine/realtime/liveState.js';
import { subscribers, type SubscriptionKind } from '../../../engine/realtime/metrics.js';
import { driverTopic, restaurantTopic } from '../../../engine/realtime/topics.js';
import { builder } from '../../../engine/graphql/builder.js';
import type { Context } from '../../../engine/graphql/context.js';
import { badInput, clientError, forbidden } from '../../../engine/graphql/errors.js';
import { liveOrderSpec } from './liveOrders.js';
import { OrderRef } from './order.js';
import { canViewOrder } from '../domain/orderAccess.js';
import { uuid } from '../../../engine/graphql/modules/validators.js';
import type { ShareExtension } from '../../../engine/realtime/shareMode.js';

async function watchFeed(ctx: Context, kind: SubscriptionKind, topic: string): Promise<LiveState<Delivery<Order>>> {
  const { realtime } = ctx;
  await realtime.start();
  const bound = realtime.subscriberBuffer;
  let leave = () => {};
  let untrack = () => {};
  subscribers.inc({ kind });
  const channel: LiveState<Delivery<Order>> = new LiveState<Delivery<Order>>(
    () => {
      leave();
      untrack();
      subscribers.dec({ kind });
    },
    bound,
    () =>
      channel.finish({
        error: clientError('SLOW_CONSUMER', `Subscriber fell behind on more than ${bound} orders; subscribe again and re-query`),
      }),
  );
  leave = realtime.feeds.join(topic, liveOrderSpec(realtime), (order, cause) => {
    if (canViewOrder(ctx.viewer, order)) channel.offer(order.id, { value: order, causedAt: cause.createdAt });
  });
  untrack = realtime.track(channel);
  return channel;
}

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
    // Identical WebSocket subscriptions (same viewer and arguments) share an execution (from the second on).
    extensions: { realtimeShare: 'changes' } satisfies ShareExtension,
    subscribe: (_root, args, ctx) =>
      watchFeed(ctx, 'restaurantOrders', restaurantTopic(feedSubject(ctx, 'restaurant', args.restaurantId, 'restaurantId'))),
    resolve: (delivery: Delivery<Order>) => unwrapDelivery(delivery, 'restaurantOrders'),
  }),
  driverJobs: t.field({
    type: OrderRef,
    description: 'Orders assigned to a driver as they change (driver: their own; service/admin: pass driverId).',
    authScopes: { role: ['driver', 'service', 'admin'] },
    args: { driverId: t.arg.id({ required: false, validate: uuid.optional() }) },
    extensions: { realtimeShare: 'changes' } satisfies ShareExtension,
    subscribe: (_root, args, ctx) => watchFeed(ctx, 'driverJobs', driverTopic(feedSubject(ctx, 'driver', args.driverId, 'driverId'))),
    resolve: (delivery: Delivery<Order>) => unwrapDelivery(delivery, 'driverJobs'),
  }),
}));
