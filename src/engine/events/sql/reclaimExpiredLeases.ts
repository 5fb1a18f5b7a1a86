/**
 * Hands deliveries whose lease expired (their dispatcher was killed, hung or
 * lost its database connection) back to pending, claimable at once. The
 * interrupted attempt is not counted. Any dispatcher may run this.
 */
import type { Queryable } from './queryable.js';

export interface ReclaimedDelivery {
  id: string;
  triggerName: string;
  /** The dispatcher that held the lease. */
  lostBy: string | null;
}

export async function reclaimExpiredLeases(sql: Queryable): Promise<ReclaimedDelivery[]> {
  const rows = await sql<{ id: string; trigger_name: string; lost_by: string | null }[]>`
    with expired as (
      select id, locked_by
      from threefactor.deliveries
      where status = 'running' and locked_until < now()
      for update skip locked
    )
    update threefactor.deliveries as d
    set status = 'pending', locked_by = null, locked_until = null, run_at = now(), updated_at = now()
    from expired
    where d.id = expired.id
    returning d.id, d.trigger_name, expired.locked_by as lost_by`;
  return rows.map((r) => ({ id: r.id, triggerName: r.trigger_name, lostBy: r.lost_by }));
}
