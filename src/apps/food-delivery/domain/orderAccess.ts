/**
 * Who may see and act on an order: the one row-level rule, shared by
 * queries, mutations and realtime subscriptions.
 *   customer: own orders; restaurant: orders placed with it;
 *   driver: orders assigned to them; service and admin: all.
 * `orderScope` is the same rule as SQL, so a compare-and-set checks status
 * and ownership in one atomic statement.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx, Viewer } from '../../../engine/index.js';
import { orders, type Order } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { foodRole, type RowRole } from './roles.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function canViewOrder(viewer: Viewer, order: Order): boolean {
  switch (foodRole(viewer)) {
    case 'customer':
      return order.customerId === viewer.sub;
    case 'restaurant':
      return order.restaurantId === viewer.sub;
    case 'driver':
      return order.driverId === viewer.sub;
    case 'service':
    case 'admin':
      return true;
    case undefined:
      return false;
  }
}

const OWNER = { customer: orders.customerId, restaurant: orders.restaurantId, driver: orders.driverId } satisfies Record<RowRole, unknown>;

/** `canViewOrder` as a WHERE condition; undefined means "every order". */
export function orderScope(viewer: Viewer): SQL | undefined {
  const role = foodRole(viewer);
  if (role === 'service' || role === 'admin') return undefined;
  // A subject that is no row id owns nothing (and must not reach a uuid cast).
  if (!role || !isUuid(viewer.sub)) return sql`false`;
  return eq(OWNER[role], viewer.sub);
}

/** The refusal for an order that exists but is not the viewer's. */
export const notYours = (orderId: string): DomainError => DomainError.forbidden(`Order ${orderId} is not yours`);

export async function findOrder(db: Db | Tx, id: string): Promise<Order | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

/** The order, if this viewer may see it: null when there is none, FORBIDDEN when it is not theirs. */
export async function findOrderFor(ctx: Pick<Caller, 'database' | 'viewer'>, id: string): Promise<Order | null> {
  const order = await findOrder(ctx.database.db, id);
  if (!order) return null;
  if (!canViewOrder(ctx.viewer, order)) throw notYours(id);
  return order;
}

/** The order, if this viewer may see it: NOT_FOUND when missing, FORBIDDEN when not theirs. */
export async function loadOrderFor(ctx: Pick<Caller, 'database' | 'viewer'>, id: string): Promise<Order> {
  const order = await findOrderFor(ctx, id);
  if (!order) throw DomainError.notFound('Order', id);
  return order;
}
