/**
 * The log's horizon, defined once: the xid8 below which every transaction
 * of this database has finished, so no event with a smaller xid can still
 * commit. The realtime hub reads events below it (realtime/sql/readCommittedAfter.ts)
 * and ordered deliveries wait for their event to be below it
 * (claimDeliveries.ts), so both are held back by the same transactions.
 *
 * It is the statement snapshot's xmin, refined: transactions still running
 * in OTHER databases of the cluster cannot write our event log, so they do
 * not hold it back (a long CREATE DATABASE or batch job elsewhere would
 * otherwise stall every subscriber and every ordered delivery here). A
 * running xid counts as foreign only while pg_stat_activity shows its
 * backend in another database; if it cannot be proven foreign (finished
 * meanwhile, a prepared transaction, stats not visible to this role), it
 * holds the horizon, which costs latency, never an event.
 *
 * A scalar subquery to interpolate into a statement; pg_stat_activity is
 * read at most once per statement, and only while transactions are running.
 */
import type postgres from 'postgres';
import type { Queryable } from './queryable.js';

/**
 * `xid < horizon`, with the snapshot's plain xmin tried first: it is a lower
 * bound of the horizon, so when it already passes (nearly always) the
 * refined horizon, and its read of pg_stat_activity, is never evaluated.
 */
export function belowHorizon(sql: Queryable, xid: postgres.Fragment): postgres.Fragment {
  return sql`(${xid} < pg_snapshot_xmin(pg_current_snapshot()) or ${xid} < ${horizon(sql)})`;
}

export function horizon(sql: Queryable): postgres.Fragment {
  return sql`(
    with snapshot as (
      select pg_current_snapshot() as s
    ),
    foreign_xids as materialized (
      select a.backend_xid as xid
      from pg_stat_activity a
      where a.backend_xid is not null
        and a.datid is distinct from (select oid from pg_database where datname = current_database())
    )
    select coalesce(
      (select min(x) from pg_snapshot_xip(s) x
       where not exists (select 1 from foreign_xids f where f.xid = x::xid)),
      pg_snapshot_xmax(s)
    )
    from snapshot
  )`;
}
