/**
 * Live order state shared by the order subscriptions of one process: a
 * change is read from `orders` ONCE per hub tick, whoever watches it (the
 * order's own subscribers, its restaurant's feed, its driver's feed), in one
 * batched query for every order changed in that tick. Subscribers then apply
 * `canViewOrder` to the fresh row themselves: the same rule as queries, no
 * read per subscriber.
 */
import { inArray } from 'drizzle-orm';
import { orders, type Order, type OrderStatus } from '../db/schema.js';
import { stateReads } from '../../../engine/realtime/metrics.js';
import type { Realtime } from '../../../engine/realtime/realtime.js';
import type { FeedSpec } from '../../../engine/realtime/sharedFeed.js';
import { createTickBatcher } from '../../../engine/realtime/tickBatcher.js';
import { isUuid } from '../domain/orderAccess.js';

/** States an order never leaves. */
const FINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['rejected', 'declined', 'delivered']);

const specs = new WeakMap<Realtime, FeedSpec<Order>>();

/** The feed spec of order topics (`order:`, `restaurant:`, `driver:`) for this process. */
export function liveOrderSpec(realtime: Realtime): FeedSpec<Order> {
  let spec = specs.get(realtime);
  if (!spec) {
    const reader = createTickBatcher<Order>(async (ids) => {
      // Event aggregate ids are text; only a UUID can be an order.
      const valid = ids.filter(isUuid);
      stateReads.inc({ kind: 'order' });
      const rows = valid.length ? await realtime.database.db.select().from(orders).where(inArray(orders.id, valid)) : [];
      return new Map(rows.map((row) => [row.id, row]));
    });
    spec = {
      keyOf: (event) => event.aggregateId,
      load: (id) => reader.load(id),
      versionOf: (order) => order.version,
      isFinal: (order) => FINAL.has(order.status),
    };
    specs.set(realtime, spec);
  }
  return spec;
}
