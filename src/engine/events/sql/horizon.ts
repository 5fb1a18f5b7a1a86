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
 * read at most once per statement, and only while transactions are running
 * (the SQL is the function threefactor.log_horizon(), in its migration).
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

/**
 * The function threefactor.log_horizon() (drizzle/engine/…_log_horizon), as a
 * scalar subquery: evaluated at most once per statement, and only when
 * needed. A function, not the same SQL inline: inline, the statement around
 * it grew and the drain ran ~15% slower in a probe, though the SQL itself
 * was rarely evaluated.
 */
export function horizon(sql: Queryable): postgres.Fragment {
  return sql`(select threefactor.log_horizon())`;
}
