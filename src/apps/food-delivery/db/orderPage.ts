/**
 * One page of orders, newest first, by the engine's (created_at, id) keyset,
 * limited to a scope (the viewer's, from domain/orderAccess) and optionally
 * to one status.
 */
import { and, eq, getColumns, type SQL } from 'drizzle-orm';
import { cursorAt, timeCursor, timeKeysetOrder, timeKeysetWhere, type Db } from '../../../engine/index.js';
import { orders, type Order, type OrderStatus } from './schema.js';

export interface OrderPageArgs {
  before?: string;
  after?: string;
  /** Rows to fetch (the connection helper asks for one more than it shows). */
  limit: number;
  /** Paging backwards: fetch oldest-first, the helper reverses. */
  inverted: boolean;
}

export interface OrderFilter {
  /** Which orders the viewer may see; undefined is all. */
  scope: SQL | undefined;
  status?: OrderStatus | null;
}

export type PagedOrder = Order & { cursorAt: string };

export const orderCursor: (order: PagedOrder) => string = timeCursor;

export async function pageOrders(db: Db, { scope, status }: OrderFilter, page: OrderPageArgs): Promise<PagedOrder[]> {
  return db
    .select({ ...getColumns(orders), cursorAt: cursorAt(orders) })
    .from(orders)
    .where(and(scope, status ? eq(orders.status, status) : undefined, timeKeysetWhere(orders, page)))
    .orderBy(...timeKeysetOrder(orders, page.inverted))
    .limit(page.limit);
}
