/**
 * Per trigger: deliveries pending (queue depth, retries waiting included),
 * running (leased) and dead (the dead-letter queue), in one statement.
 * Every trigger gets a row, zeros included, so a drained queue reads 0
 * rather than vanishing. Each count scans only its own partial index
 * (deliveries_claimable_idx, _leases_idx, _dead_idx), never the delivered rows.
 */
import type postgres from 'postgres';
import type { Queryable } from './queryable.js';

export interface TriggerDeliveryCounts {
  trigger: string;
  pending: number;
  running: number;
  dead: number;
}

/**
 * The three counts' joins onto `threefactor.event_triggers as t`, as a fragment (columns `p.n`, `r.n`, `dd.n`), so
 * a statement that reads more per trigger (realtime/sql/readDeliveryStats.ts) counts the same way in one statement.
 */
export function deliveryCountJoins(sql: Queryable): postgres.PendingQuery<postgres.Row[]> {
  return sql`
    left join (select trigger_name, count(*) as n from threefactor.deliveries where status = 'pending' group by trigger_name) as p
      on p.trigger_name = t.name
    left join (select trigger_name, count(*) as n from threefactor.deliveries where status = 'running' group by trigger_name) as r
      on r.trigger_name = t.name
    left join (select trigger_name, count(*) as n from threefactor.deliveries where status = 'dead' group by trigger_name) as dd
      on dd.trigger_name = t.name`;
}

export async function countDeliveries(sql: Queryable): Promise<TriggerDeliveryCounts[]> {
  return sql<TriggerDeliveryCounts[]>`
    select t.name as trigger,
           coalesce(p.n, 0)::int as pending,
           coalesce(r.n, 0)::int as running,
           coalesce(dd.n, 0)::int as dead
    from threefactor.event_triggers as t
    ${deliveryCountJoins(sql)}
    order by t.name`;
}
