/**
 * One page of orders, newest first, by the (created_at, id) keyset in
 * timeKeyset.ts, limited to the viewer's scope.
 */
import { and, getColumns, type SQL } from 'drizzle-orm';
import type { Db } from '../../../engine/db/client.js';
import { orders, type Order } from '../db/schema.js';
import { cursorAt, timeCursor, timeKeysetOrder, timeKeysetWhere } from '../../../engine/graphql/modules/timeKeyset.js';

export interface OrderPageArgs {
  before?: string;
  after?: string;
  /** Rows to fetch (the connection helper asks for one more than it shows). */
  limit: number;
  /** Paging backwards: fetch oldest-first, the helper reverses. */
  inverted: boolean;
}

export type PagedOrder = Order & { cursorAt: string };

export const orderCursor: (order: PagedOrder) => string = timeCursor;

export async function pageOrders(db: Db, scope: SQL | undefined, page: OrderPageArgs): Promise<PagedOrder[]> {
  return db
    .select({ ...getColumns(orders), cursorAt: cursorAt(orders) })
    .from(orders)
    .where(and(scope, timeKeysetWhere(orders, page)))
    .orderBy(...timeKeysetOrder(orders, page.inverted))
    .limit(page.limit);
}
