/**
 * One page of orders, newest first, by a keyset on (created_at, id): stable
 * while orders are being placed, and no OFFSET scan. The cursor carries
 * created_at at PostgreSQL's microsecond precision (a JS Date would round to
 * milliseconds and skip or repeat rows) and the id as the tie-breaker.
 */
import { and, desc, asc, getColumns, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { orders, type Order } from '../../db/schema/domain.js';
import { badInput } from '../errors.js';

export interface OrderPageArgs {
  before?: string;
  after?: string;
  /** Rows to fetch (the connection helper asks for one more than it shows). */
  limit: number;
  /** Paging backwards: fetch oldest-first, the helper reverses. */
  inverted: boolean;
}

export type PagedOrder = Order & { cursorAt: string };

const Cursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

export function orderCursor(order: PagedOrder): string {
  return Buffer.from(JSON.stringify([order.cursorAt, order.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = Cursor.safeParse(parsed);
  if (!result.success) throw badInput(`Invalid cursor ${JSON.stringify(cursor.slice(0, 100))}`);
  return result.data;
}

export async function pageOrders(db: Db, scope: SQL | undefined, page: OrderPageArgs): Promise<PagedOrder[]> {
  const after = page.after ? decodeCursor(page.after) : undefined;
  const before = page.before ? decodeCursor(page.before) : undefined;
  const key = sql`(${orders.createdAt}, ${orders.id})`;
  return db
    .select({
      ...getColumns(orders),
      cursorAt: sql<string>`to_char(${orders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(orders)
    .where(
      and(
        scope,
        after && sql`${key} < (${after[0]}::timestamptz, ${after[1]}::uuid)`,
        before && sql`${key} > (${before[0]}::timestamptz, ${before[1]}::uuid)`,
      ),
    )
    .orderBy(...(page.inverted ? [asc(orders.createdAt), asc(orders.id)] : [desc(orders.createdAt), desc(orders.id)]))
    .limit(page.limit);
}
