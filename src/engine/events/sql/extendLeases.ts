/**
 * Heartbeat: extends the leases this dispatcher still holds (one that
 * expired but was not yet reclaimed is revived). Returns how many.
 *
 * Rows locked right now are skipped, not waited for: the lock is this
 * dispatcher's own completion (or a sweep) changing the row, which ends the
 * lease anyway. Waiting would queue the heartbeat behind those statements
 * and, since both lock many rows in no common order, let the two deadlock.
 */
import type { Queryable } from './queryable.js';

export async function extendLeases(sql: Queryable, dispatcherId: string, ids: string[], leaseMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  const kept = await sql`
    with mine as (
      select id
      from threefactor.deliveries
      where id = any(${ids}::uuid[])
        and locked_by = ${dispatcherId}
        and status = 'running'
      for update skip locked
    )
    update threefactor.deliveries as d
    set locked_until = now() + ${leaseMs} * interval '1 millisecond'
    from mine
    where d.id = mine.id`;
  return kept.count;
}
