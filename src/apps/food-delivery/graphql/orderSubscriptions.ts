/**
 * `order(id, afterVersion)`: one order's live state. The current state at
 * once (only if newer than `afterVersion`, for a client resuming after a
 * reconnect), then every change, read through the same access rule as the
 * `order` query: NOT_FOUND or FORBIDDEN up front, and FORBIDDEN (ending the
 * subscription) should a change take the order out of the viewer's reach.
 *
 * A slow client skips intermediate states but always gets the newest: at
 * most one state is pending per subscriber, whatever the rate of change.
 */
import type { Order } from '../db/schema.js';
import { unwrapDelivery, type Delivery } from '../../../engine/realtime/delivery.js';
import { LiveState } from '../../../engine/realtime/liveState.js';
import { subscribers } from '../../../engine/realtime/metrics.js';
import { aggregateTopic } from '../../../engine/realtime/topics.js';
import { builder } from '../../../engine/graphql/builder.js';
import type { Context } from '../../../engine/graphql/context.js';
import { forbidden } from '../../../engine/graphql/errors.js';
import { liveOrderSpec } from './liveOrders.js';
import { OrderRef } from './order.js';
import { canViewOrder, loadOrderFor } from '../domain/orderAccess.js';
import { uuid } from '../../../engine/graphql/modules/validators.js';
import type { ShareExtension } from '../../../engine/realtime/shareMode.js';

interface Watch {
  ctx: Context;
  id: string;
  /** The newest version sent (or the client's `afterVersion`). */
  sent: number;
  channel: LiveState<Delivery<Order>>;
}

/**
 * A state for the watcher: ended with FORBIDDEN if the order left the viewer's reach, else sent
 * if newer than what was sent (the initial read and the feed race). A module function, not a
 * closure per subscriber: under tsx every named closure carries a 256-byte property dictionary.
 */
function offer(watch: Watch, order: Order, causedAt?: Date): void {
  if (!canViewOrder(watch.ctx.viewer, order)) return watch.channel.finish({ error: forbidden(`Order ${watch.id} is not yours`) });
  if (order.version <= watch.sent) return;
  watch.sent = order.version;
  watch.channel.offer(watch.id, { value: order, causedAt });
}

async function watchOrder(ctx: Context, id: string, afterVersion: number | null): Promise<LiveState<Delivery<Order>>> {
  const { realtime } = ctx;
  await realtime.start();
  let leave: (() => void) | undefined;
  let untrack: (() => void) | undefined;
  subscribers.inc({ kind: 'order' });
  const channel = new LiveState<Delivery<Order>>(
    () => {
      leave?.();
      untrack?.();
      subscribers.dec({ kind: 'order' });
    },
    1,
    () => {},
  );
  const watch: Watch = { ctx, id, sent: afterVersion ?? Number.NEGATIVE_INFINITY, channel };
  // Join before the initial read, so a change committed in between is not missed.
  leave = realtime.feeds.join(aggregateTopic('order', id), liveOrderSpec(realtime), (order, cause) => offer(watch, order, cause.createdAt));
  untrack = realtime.track(channel);
  try {
    offer(watch, await loadOrderFor(ctx, id));
  } catch (err) {
    await channel.return();
    throw err;
  }
  return channel;
}

builder.subscriptionField('order', (t) =>
  t.field({
    type: OrderRef,
    description:
      'An order you may see: its current state at once (only if newer than `afterVersion`), then every change. A slow client may skip intermediate states, never the latest.',
    args: {
      id: t.arg.id({ validate: uuid }),
      afterVersion: t.arg.int({
        required: false,
        description: 'The last version the client has (after a reconnect): the current state is sent only if newer.',
      }),
    },
    // Identical WebSocket subscriptions (same viewer and arguments) share an execution (from the second on); a joiner gets the newest state.
    extensions: { realtimeShare: 'latest' } satisfies ShareExtension,
    subscribe: (_root, { id, afterVersion }, ctx) => watchOrder(ctx, String(id), afterVersion ?? null),
    resolve: (delivery: Delivery<Order>) => unwrapDelivery(delivery, 'order'),
  }),
);
