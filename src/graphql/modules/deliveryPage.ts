/**
 * One page of deliveries for the admin API, newest first, by a keyset on
 * (created_at, id) with created_at at PostgreSQL's microsecond precision
 * (the same cursor shape as orderPage: a JS Date would round and skip rows).
 */
import { and, asc, desc, eq, getColumns, gte, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { deliveries, type DeliveryRow, type DeliveryStatus } from '../../db/schema/delivery.js';
import { badInput } from '../errors.js';
import type { PageArgs } from './eventPage.js';

export interface DeliveryFilter {
  trigger?: string | null | undefined;
  status?: DeliveryStatus | null | undefined;
  eventId?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

export type PagedDelivery = DeliveryRow & { cursorAt: string };

const Cursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

export function deliveryCursor(d: PagedDelivery): string {
  return Buffer.from(JSON.stringify([d.cursorAt, d.id])).toString('base64url');
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

function filterWhere(f: DeliveryFilter | null | undefined): SQL | undefined {
  return and(
    f?.trigger ? eq(deliveries.triggerName, f.trigger) : undefined,
    f?.status ? eq(deliveries.status, f.status) : undefined,
    f?.eventId ? eq(deliveries.eventId, f.eventId) : undefined,
    f?.from ? gte(deliveries.createdAt, f.from) : undefined,
    f?.to ? lt(deliveries.createdAt, f.to) : undefined,
  );
}

export async function pageDeliveries(db: Db, filter: DeliveryFilter | null | undefined, page: PageArgs): Promise<PagedDelivery[]> {
  const after = page.after ? decodeCursor(page.after) : undefined;
  const before = page.before ? decodeCursor(page.before) : undefined;
  const key = sql`(${deliveries.createdAt}, ${deliveries.id})`;
  return db
    .select({
      ...getColumns(deliveries),
      cursorAt: sql<string>`to_char(${deliveries.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(deliveries)
    .where(
      and(
        filterWhere(filter),
        after && sql`${key} < (${after[0]}::timestamptz, ${after[1]}::uuid)`,
        before && sql`${key} > (${before[0]}::timestamptz, ${before[1]}::uuid)`,
      ),
    )
    .orderBy(...(page.inverted ? [asc(deliveries.createdAt), asc(deliveries.id)] : [desc(deliveries.createdAt), desc(deliveries.id)]))
    .limit(page.limit);
}
