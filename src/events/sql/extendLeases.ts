/**
 * Heartbeat: extends the leases this dispatcher still holds. Returns the ids
 * it no longer holds (expired and reclaimed), which the caller reports.
 */
import type { Queryable } from './queryable.js';

export async function extendLeases(sql: Queryable, dispatcherId: string, ids: string[], leaseMs: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const kept = await sql<{ id: string }[]>`
    update deliveries
    set locked_until = now() + ${leaseMs} * interval '1 millisecond'
    where id = any(${ids}::uuid[])
      and locked_by = ${dispatcherId}
      and status = 'running'
    returning id`;
  const held = new Set(kept.map((r) => r.id));
  return ids.filter((id) => !held.has(id));
}
