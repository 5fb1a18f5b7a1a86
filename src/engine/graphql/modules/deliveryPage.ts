/**
 * One page of deliveries for the admin API, newest first, by the
 * (created_at, id) keyset in timeKeyset.ts, narrowed by the admin filter.
 */
import { and, eq, getColumns, gte, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deliveries, type DeliveryRow, type DeliveryStatus } from '../../db/schema/delivery.js';
import type { PageArgs } from './eventPage.js';
import { cursorAt, timeCursor, timeKeysetOrder, timeKeysetWhere } from './timeKeyset.js';

export interface DeliveryFilter {
  trigger?: string | null | undefined;
  status?: DeliveryStatus | null | undefined;
  eventId?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

export type PagedDelivery = DeliveryRow & { cursorAt: string };

export const deliveryCursor: (d: PagedDelivery) => string = timeCursor;

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
  return db
    .select({ ...getColumns(deliveries), cursorAt: cursorAt(deliveries) })
    .from(deliveries)
    .where(and(filterWhere(filter), timeKeysetWhere(deliveries, page)))
    .orderBy(...timeKeysetOrder(deliveries, page.inverted))
    .limit(page.limit);
}
