/**
 * The hub's tail read: the next events after a cursor whose transactions
 * are all finished, in commit-safe (xid, seq) order. In the same snapshot it
 * says whether committed events wait beyond the horizon, held back by an
 * older transaction still running: the caller must look again soon even if
 * no notification comes.
 *
 * The horizon is the one ordered deliveries wait for too
 * (events/sql/horizon.ts): the snapshot's xmin, not held back by
 * transactions running in other databases of the cluster.
 *
 * One statement, so horizon, rows and "held" agree; the left join returns
 * one row (with null event columns) when nothing is new.
 */
import type { Sql } from '../../db/client.js';
import type { Cursor } from '../../events/cursor.js';
import { horizon } from '../../events/sql/horizon.js';
import { toLogEvent, type EventRecord, type LogEvent } from './eventRow.js';

type Row = { held: boolean } & ({ [K in keyof EventRecord]: EventRecord[K] } | { [K in keyof EventRecord]: null });

export interface CommittedBatch {
  events: LogEvent[];
  /** Committed events exist beyond the horizon. */
  held: boolean;
}

export async function readCommittedAfter(sql: Sql, after: Cursor, limit: number): Promise<CommittedBatch> {
  const rows = await sql<Row[]>`
    with horizon as (
      select ${horizon(sql)} as xmin
    ),
    batch as (
      select e.*
      from threefactor.events e, horizon h
      where (e.xid, e.seq) > (${after.xid.toString()}::xid8, ${after.seq.toString()}::bigint)
        and e.xid < h.xmin
      order by e.xid, e.seq
      limit ${limit}
    )
    select
      exists (select 1 from threefactor.events e, horizon h where e.xid >= h.xmin) as held,
      b.id, b.xid::text as xid, b.seq::text as seq, b.type, b.aggregate_type, b.aggregate_id,
      b.payload, b.session, b.trace_context, b.caused_by_event, b.caused_by_delivery, (extract(epoch from b.created_at) * 1000)::float8 as created_ms
    from horizon
    left join batch b on true
    order by b.xid, b.seq`;
  const held = rows[0]?.held ?? false;
  const events = rows.filter((r): r is Row & EventRecord => r.id !== null).map(toLogEvent);
  return { events, held };
}
