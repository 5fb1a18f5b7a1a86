/**
 * Who may see and act on an order: the one row-level rule, shared by
 * queries, mutations and realtime subscriptions.
 *   customer: own orders; restaurant: orders placed with it;
 *   driver: orders assigned to them; service and admin: all.
 * `orderScope` is the same rule as SQL, so a compare-and-set checks status
 * and ownership in one atomic statement.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../../../engine/db/client.js';
import { orders, type Order } from '../db/schema.js';
import type { Context, Viewer } from '../../../engine/graphql/context.js';
import { forbidden, notFound } from '../../../engine/graphql/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function canViewOrder(viewer: Viewer, order: Order): boolean {
  switch (viewer.role) {
    case 'customer':
      return order.customerId === viewer.sub;
    case 'restaurant':
      return order.restaurantId === viewer.sub;
    case 'driver':
      return order.driverId === viewer.sub;
    case 'service':
    case 'admin':
      return true;
  }
}

/** `canViewOrder` as a WHERE condition; undefined means "every order". */
export function orderScope(viewer: Viewer): SQL | undefined {
  if (viewer.role === 'service' || viewer.role === 'admin') return undefined;
  // A subject that is no row id owns nothing (and must not reach a uuid cast).
  if (!isUuid(viewer.sub)) return sql`false`;
  const column = { customer: orders.customerId, restaurant: orders.restaurantId, driver: orders.driverId }[viewer.role];
  return eq(column, viewer.sub);
}

export async function findOrder(db: Db | Tx, id: string): Promise<Order | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

/** The order, if this viewer may see it: NOT_FOUND when missing, FORBIDDEN when not theirs. */
export async function loadOrderFor(ctx: Context, id: string): Promise<Order> {
  const order = await findOrder(ctx.database.db, id);
  if (!order) throw notFound('Order', id);
  if (!canViewOrder(ctx.viewer, order)) throw forbidden(`Order ${id} is not yours`);
  return order;
}
