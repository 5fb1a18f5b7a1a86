/**
 * A page of history for a resuming stream: events in (after, upTo], matching
 * an optional filter, in (xid, seq) order. upTo is a position the hub has
 * already passed, so every row in the range is final and the page is stable.
 */
import type { Sql } from '../../db/client.js';
import type { Cursor } from '../cursor.js';
import { toLogEvent, type EventRecord, type LogEvent } from './eventRow.js';

export interface EventFilter {
  types?: readonly string[] | null;
  aggregateType?: string | null;
  aggregateId?: string | null;
}

export async function readRange(sql: Sql, after: Cursor, upTo: Cursor, filter: EventFilter, limit: number): Promise<LogEvent[]> {
  const { types, aggregateType, aggregateId } = filter;
  return (
    await sql<EventRecord[]>`
      select id, xid::text as xid, seq::text as seq, type, aggregate_type, aggregate_id, payload,
        (extract(epoch from created_at) * 1000)::float8 as created_ms
      from events
      where (xid, seq) > (${after.xid.toString()}::xid8, ${after.seq.toString()}::bigint)
        and (xid, seq) <= (${upTo.xid.toString()}::xid8, ${upTo.seq.toString()}::bigint)
        ${types ? sql`and type = any(${[...types]}::text[])` : sql``}
        ${aggregateType ? sql`and aggregate_type = ${aggregateType}` : sql``}
        ${aggregateId ? sql`and aggregate_id = ${aggregateId}` : sql``}
      order by xid, seq
      limit ${limit}`
  ).map(toLogEvent);
}
