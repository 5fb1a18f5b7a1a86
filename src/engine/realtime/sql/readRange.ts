/**
 * A page of history for a resuming stream: events in (after, upTo], matching
 * an optional filter, in (xid, seq) order. upTo is a position the hub has
 * already passed, so every row in the range is final and the page is stable.
 */
import type { Sql } from '../../db/client.js';
import type { Cursor } from '../../events/cursor.js';
import { ENGINE_EVENT_PREFIX } from '../../events/engineEvents.js';
import { toLogEvent, type EventRecord, type LogEvent } from './eventRow.js';

export interface EventFilter {
  types?: readonly string[] | null;
  aggregateType?: string | null;
  aggregateId?: string | null;
  /** Leave out the engine's own events (`threefactor.*`, events/engineEvents.ts): every viewer but an admin. */
  withoutEngineEvents?: boolean;
}

export async function readRange(sql: Sql, after: Cursor, upTo: Cursor, filter: EventFilter, limit: number): Promise<LogEvent[]> {
  const { types, aggregateType, aggregateId, withoutEngineEvents } = filter;
  return (
    await sql<EventRecord[]>`
      select e.id, e.xid::text as xid, e.seq::text as seq, e.type, e.aggregate_type, e.aggregate_id, e.payload,
        e.session, e.trace_context, e.caused_by_event, e.caused_by_delivery,
        (extract(epoch from e.created_at) * 1000)::float8 as created_ms
      from threefactor.events e
      where (e.xid, e.seq) > (${after.xid.toString()}::xid8, ${after.seq.toString()}::bigint)
        and (e.xid, e.seq) <= (${upTo.xid.toString()}::xid8, ${upTo.seq.toString()}::bigint)
        ${types ? sql`and e.type = any(${[...types]}::text[])` : sql``}
        ${aggregateType ? sql`and e.aggregate_type = ${aggregateType}` : sql``}
        ${aggregateId ? sql`and e.aggregate_id = ${aggregateId}` : sql``}
        ${withoutEngineEvents ? sql`and not starts_with(e.type, ${ENGINE_EVENT_PREFIX})` : sql``}
      -- e.xid, not the text column of the same name: order numerically.
      order by e.xid, e.seq
      limit ${limit}`
  ).map(toLogEvent);
}
