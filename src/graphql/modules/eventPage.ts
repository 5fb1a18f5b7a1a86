/**
 * One page of the event log for the admin API, newest first, by a keyset on
 * the log's (xid, seq) position (events_cursor_idx): the same position
 * replay takes as afterCursor/beforeCursor, written "xid:seq"
 * (src/events/admin/replay.ts), so an operator can page to an event and
 * replay from it.
 */
import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, type EventRow } from '../../db/schema/events.js';
import { formatCursor, parseCursor, ReplayError } from '../../events/admin/replay.js';
import { badInput } from '../errors.js';

export interface EventFilter {
  types?: readonly string[] | null | undefined;
  aggregateType?: string | null | undefined;
  aggregateId?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

export interface PageArgs {
  before?: string;
  after?: string;
  limit: number;
  inverted: boolean;
}

export const eventPosition = (e: Pick<EventRow, 'xid' | 'seq'>): string => formatCursor({ xid: e.xid, seq: e.seq });

/** An event position from a client; BAD_USER_INPUT when it is not one. */
export function readPosition(cursor: string, field = 'cursor'): { xid: string; seq: number } {
  try {
    return parseCursor(cursor);
  } catch (err) {
    if (err instanceof ReplayError) throw badInput(`${field}: ${err.message}`, field);
    throw err;
  }
}

export function eventFilterWhere(f: EventFilter | null | undefined): SQL | undefined {
  return and(
    f?.types?.length ? inArray(events.type, [...f.types]) : undefined,
    f?.aggregateType ? eq(events.aggregateType, f.aggregateType) : undefined,
    f?.aggregateId ? eq(events.aggregateId, f.aggregateId) : undefined,
    f?.from ? gte(events.createdAt, f.from) : undefined,
    f?.to ? lt(events.createdAt, f.to) : undefined,
  );
}

export async function pageEvents(db: Db, filter: EventFilter | null | undefined, page: PageArgs): Promise<EventRow[]> {
  const after = page.after ? readPosition(page.after, 'after') : undefined;
  const before = page.before ? readPosition(page.before, 'before') : undefined;
  const key = sql`(${events.xid}, ${events.seq})`;
  return db
    .select()
    .from(events)
    .where(
      and(
        eventFilterWhere(filter),
        after && sql`${key} < (${after.xid}::xid8, ${after.seq}::bigint)`,
        before && sql`${key} > (${before.xid}::xid8, ${before.seq}::bigint)`,
      ),
    )
    .orderBy(...(page.inverted ? [asc(events.xid), asc(events.seq)] : [desc(events.xid), desc(events.seq)]))
    .limit(page.limit);
}
