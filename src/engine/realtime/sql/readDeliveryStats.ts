/**
 * The `deliveryStats` feed's one read per tick (realtime/deliveryStats.ts):
 * per trigger, its pause state and the deliveries pending, running and dead
 * (countDeliveries.ts's partial-index counts, its joins shared as a
 * fragment, here in the tick's one statement),
 * and the attempts logged since the previous tick (after its highest
 * attempt id): how many, how many delivered, and their latency.
 *
 * Attempts are read by id (the primary key), never by time (no index on
 * started_at): `afterId` null (the first tick) reads none and only learns
 * where the log ends. An attempt whose transaction commits after a later id
 * was seen is not counted: the charts are a rate, not a ledger.
 */
import { deliveryCountJoins } from '../../events/sql/countDeliveries.js';
import type { Queryable } from '../../events/sql/queryable.js';

export interface TriggerStatsRow {
  trigger: string;
  paused: boolean;
  pausedReason: string | null;
  pending: number;
  running: number;
  dead: number;
  /** Attempts logged since the previous read, and of those delivered, and their duration percentiles (null: none). */
  attempts: number;
  delivered: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface DeliveryStatsRead {
  triggers: TriggerStatsRow[];
  /** Every trigger's attempts of this read together (its counts are not summed: only the attempt fields). */
  total: TriggerStatsRow;
  /** The highest attempt id now: the next read's afterId. */
  lastAttemptId: number;
}

/** At most this many attempts are aggregated per read, so a backlog after a pause costs one bounded read. */
export const MAX_ATTEMPTS_PER_READ = 100_000;

export async function readDeliveryStats(sql: Queryable, afterId: number | null): Promise<DeliveryStatsRead> {
  const rows = await sql<Array<Omit<TriggerStatsRow, 'trigger'> & { trigger: string | null; lastAttemptId: string | null }>>`
    with head as (
      select coalesce(max(id), 0) as id from threefactor.delivery_attempts
    ),
    recent as (
      -- A subquery per attempt (its delivery by primary key), not a join: with the bounds as parameters
      -- the planner cannot tell a tick's few attempts from a third of the table, and would hash all deliveries.
      select (select d.trigger_name from threefactor.deliveries as d where d.id = a.delivery_id) as trigger_name, a.outcome, a.duration_ms
      from threefactor.delivery_attempts as a
      where a.id > coalesce(${afterId}::bigint, (select id from head))
        and a.id <= coalesce(${afterId}::bigint, 0) + ${MAX_ATTEMPTS_PER_READ}
    ),
    agg as (
      -- Per trigger, and () for all of them: the grand total is one row even over no attempts.
      select trigger_name, count(*)::int as attempts, count(*) filter (where outcome = 'delivered')::int as delivered,
             percentile_disc(0.5) within group (order by duration_ms) as p50,
             percentile_disc(0.95) within group (order by duration_ms) as p95,
             max(duration_ms) as mx
      from recent group by grouping sets ((trigger_name), ())
    )
    select t.name as trigger, t.paused, t.paused_reason as "pausedReason",
           coalesce(p.n, 0)::int as pending,
           coalesce(r.n, 0)::int as running,
           coalesce(dd.n, 0)::int as dead,
           coalesce(g.attempts, 0) as attempts,
           coalesce(g.delivered, 0) as delivered,
           g.p50 as "p50Ms", g.p95 as "p95Ms", g.mx as "maxMs",
           null as "lastAttemptId"
    from threefactor.event_triggers as t
    ${deliveryCountJoins(sql)}
    left join agg as g on g.trigger_name = t.name
    union all
    -- The totals row (trigger null): every trigger's attempts together, and the head.
    select null, false, null, 0, 0, 0, g.attempts, g.delivered, g.p50, g.p95, g.mx, (select id from head)::text
    from agg as g where g.trigger_name is null
    order by 1 nulls last`;
  const total = rows.find((r) => r.trigger === null);
  const head = Number(total?.lastAttemptId ?? 0);
  // With a backlog over the cap the head is ahead of what was read: continue from where this read stopped.
  const lastAttemptId = afterId === null ? head : Math.min(head, afterId + MAX_ATTEMPTS_PER_READ);
  const strip = ({ lastAttemptId: _head, trigger, ...r }: (typeof rows)[number]): TriggerStatsRow => ({ trigger: trigger ?? '', ...r });
  return {
    triggers: rows.filter((r) => r.trigger !== null).map(strip),
    total: total ? strip(total) : { trigger: '', paused: false, pausedReason: null, pending: 0, running: 0, dead: 0, attempts: 0, delivered: 0, p50Ms: null, p95Ms: null, maxMs: null },
    lastAttemptId,
  };
}
