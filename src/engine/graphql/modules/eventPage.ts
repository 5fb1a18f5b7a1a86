/**
 * One page of the event log for the admin API, newest first, by a keyset on
 * the log's (xid, seq) position (events_cursor_idx): the same position
 * replay takes as afterCursor/beforeCursor and the events subscription
 * resumes from, written "xid:seq" (src/events/cursor.ts), so an operator can
 * page to an event and replay or stream from it.
 */
import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, type EventRow } from '../../db/schema/events.js';
import { formatCursor, parseCursor, type Cursor } from '../../events/cursor.js';
import { ENGINE_EVENT_PREFIX } from '../../events/engineEvents.js';
import { badInput } from '../errors.js';

export interface EventFilter {
  types?: readonly string[] | null | undefined;
  aggregateType?: string | null | undefined;
  aggregateId?: string | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
  /** Include the engine's own events (`threefactor.*`, events/engineEvents.ts); left out by default. */
  engineEvents?: boolean | null | undefined;
}

export interface PageArgs {
  before?: string;
  after?: string;
  limit: number;
  inverted: boolean;
}

export const eventPosition = (e: Pick<EventRow, 'xid' | 'seq'>): string => formatCursor({ xid: e.xid, seq: e.seq });

/** An event position from a client; BAD_USER_INPUT when it is not one. */
export function readPosition(cursor: string, field = 'cursor'): Cursor {
  const position = parseCursor(cursor);
  if (!position) throw badInput(`${field}: invalid cursor ${JSON.stringify(cursor.slice(0, 100))}: expected "<xid>:<seq>" (an Event.cursor)`, field);
  return position;
}

export function eventFilterWhere(f: EventFilter | null | undefined): SQL | undefined {
  return and(
    f?.types?.length ? inArray(events.type, [...f.types]) : undefined,
    f?.aggregateType ? eq(events.aggregateType, f.aggregateType) : undefined,
    f?.aggregateId ? eq(events.aggregateId, f.aggregateId) : undefined,
    f?.from ? gte(events.createdAt, f.from) : undefined,
    f?.to ? lt(events.createdAt, f.to) : undefined,
    f?.engineEvents ? undefined : sql`not starts_with(${events.type}, ${ENGINE_EVENT_PREFIX})`,
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
        after && sql`${key} < (${String(after.xid)}::xid8, ${String(after.seq)}::bigint)`,
        before && sql`${key} > (${String(before.xid)}::xid8, ${String(before.seq)}::bigint)`,
      ),
    )
    .orderBy(...(page.inverted ? [asc(events.xid), asc(events.seq)] : [desc(events.xid), desc(events.seq)]))
    .limit(page.limit);
}
