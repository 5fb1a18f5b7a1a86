/**
 * Orders as live subscriptions re-read them (`LiveRows`), shared by
 * `order(id)`, `restaurantOrders` and `driverJobs`: the engine reads a
 * change from `orders` ONCE per hub tick, whoever watches it (the order's
 * own subscribers, its restaurant's feed, its driver's feed), in one batched
 * query for every order changed in that tick. Each field then applies
 * `canViewOrder` to the fresh row: the same rule as queries, no read per
 * subscriber.
 */
import { inArray } from 'drizzle-orm';
import { orders, type Order, type OrderStatus } from '../db/schema.js';
import type { LiveRows } from '../../../engine/index.js';
import { isUuid } from '../domain/orderAccess.js';

/**
 * States an order never leaves. Not declined (the workflow refunds it) nor cancelled (a charge that lands
 * after the cancel is refunded too): their subscribers see the refund.
 */
const FINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['rejected', 'delivered', 'refunded']);

export const liveOrders: LiveRows<Order> = {
  name: 'order',
  keyOf: (event) => event.aggregateId,
  async loadMany(ids, db) {
    // Event aggregate ids are text; only a UUID can be an order.
    const valid = ids.filter(isUuid);
    const rows = valid.length ? await db.select().from(orders).where(inArray(orders.id, valid)) : [];
    return new Map(rows.map((row) => [row.id, row]));
  },
  versionOf: (order) => order.version,
  isFinal: (order) => FINAL.has(order.status),
};
