/**
 * Heartbeat: extends the leases this dispatcher still holds (one that
 * expired but was not yet reclaimed is revived). Returns how many.
 */
import type { Queryable } from './queryable.js';

export async function extendLeases(sql: Queryable, dispatcherId: string, ids: string[], leaseMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  const kept = await sql`
    update deliveries
    set locked_until = now() + ${leaseMs} * interval '1 millisecond'
    where id = any(${ids}::uuid[])
      and locked_by = ${dispatcherId}
      and status = 'running'`;
  return kept.count;
}
