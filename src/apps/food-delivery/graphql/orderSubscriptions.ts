/**
 * `order(id, afterVersion)`: one order's live state. The current state at
 * once (only if newer than `afterVersion`, for a client resuming after a
 * reconnect), then every change, read through the same access rule as the
 * `order` query: NOT_FOUND or FORBIDDEN up front, and FORBIDDEN (ending the
 * subscription) should a change take the order out of the viewer's reach.
 *
 * A slow client skips intermediate states but always gets the newest: at
 * most one state is pending per subscriber, whatever the rate of change.
 * Identical WebSocket subscriptions share an execution; a joiner gets the
 * newest state.
 */
import { builder, liveSubscription, uuid } from '../../../engine/index.js';
import { canViewOrder, loadOrderFor, notYours } from '../domain/orderAccess.js';
import { orderTopic } from '../realtime.js';
import { fromDomain, toClientError } from './errors.js';
import { liveOrders } from './liveOrders.js';
import { OrderRef } from './order.js';

interface OrderArgs {
  id: string;
  afterVersion?: number | null;
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
    ...liveSubscription({
      kind: 'order',
      shape: 'row',
      rows: liveOrders,
      topic: ({ id }: OrderArgs) => orderTopic(id),
      initial: ({ id }: OrderArgs, ctx) => fromDomain(() => loadOrderFor(ctx, id)),
      afterVersion: ({ afterVersion }: OrderArgs) => afterVersion,
      admit: (order, viewer) => (canViewOrder(viewer, order) ? 'send' : toClientError(notYours(order.id))),
    }),
  }),
);
