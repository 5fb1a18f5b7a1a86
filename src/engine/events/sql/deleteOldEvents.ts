/**
 * Retention of the event log, one batch, only when RETENTION_EVENTS_DAYS is
 * set: looks at the next `limit` events in log order (xid, seq) after
 * `after`, and deletes those created more than `days` ago that have no
 * pending, running or dead delivery, together with their delivered
 * deliveries and attempt logs. An event still owed to a trigger, or kept as
 * a dead letter's subject, stays.
 *
 * The window walks events_cursor_idx, so a batch reads at most `limit`
 * index entries; the run stops at the first window with no old event.
 */
import type { Queryable } from './queryable.js';

export interface EventBatch {
  events: number;
  deliveries: number;
  attempts: number;
  /** Events in the window older than the cutoff (deleted or kept). */
  old: number;
  /** Position of the window's last event, to continue after; null when the window was empty. */
  lastXid: string | null;
  lastSeq: string | null;
}

/** Before every (xid, seq): the first window starts here. */
export const LOG_START = { xid: '0', seq: '-1' };

export async function deleteOldEvents(
  sql: Queryable,
  p: { days: number; afterXid: string; afterSeq: string; limit: number },
): Promise<EventBatch> {
  const [row] = await sql<EventBatch[]>`
    with win as (
      select id, xid, seq, created_at
      from threefactor.events
      where (xid, seq) > (${p.afterXid}::text::xid8, ${p.afterSeq}::text::bigint)
      order by xid, seq
      limit ${p.limit}
    ),
    doomed as (
      select e.id
      from threefactor.events as e
      join win on win.id = e.id
      where win.created_at < now() - ${p.days}::float8 * interval '1 day'
        and not exists (
          select 1 from threefactor.deliveries as d
          where d.event_id = win.id and d.status <> 'delivered'
        )
      for update of e skip locked
    ),
    attempts_gone as (
      delete from threefactor.delivery_attempts as a
      using threefactor.deliveries as d, doomed
      where a.delivery_id = d.id and d.event_id = doomed.id
      returning 1
    ),
    deliveries_gone as (
      delete from threefactor.deliveries as d
      using doomed
      where d.event_id = doomed.id
      returning 1
    ),
    gone as (
      delete from threefactor.events as e
      using doomed
      where e.id = doomed.id
      returning 1
    ),
    last as (
      select xid::text as xid, seq::text as seq from win order by xid desc, seq desc limit 1
    )
    select (select count(*) from gone)::int as events,
           (select count(*) from deliveries_gone)::int as deliveries,
           (select count(*) from attempts_gone)::int as attempts,
           (select count(*) from win where created_at < now() - ${p.days}::float8 * interval '1 day')::int as old,
           (select xid from last) as "lastXid",
           (select seq from last) as "lastSeq"`;
  return row!;
}
