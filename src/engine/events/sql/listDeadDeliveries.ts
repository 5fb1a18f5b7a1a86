/**
 * A page of one trigger's dead letters, oldest death first, on
 * deliveries_dead_idx (trigger_name, updated_at). `until` bounds the walk to
 * the deaths already there when it began (a redelivered letter that dies
 * again meanwhile is not picked up twice); `after` is the keyset, exact to
 * the microsecond.
 */
import type { Queryable } from './queryable.js';

export interface DeadPosition {
  /** updated_at, ISO 8601 with microseconds. */
  at: string;
  id: string;
}

export const DEAD_START: DeadPosition = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };

export async function listDeadDeliveries(
  sql: Queryable,
  p: { trigger: string; until: string; after: DeadPosition; limit: number },
): Promise<DeadPosition[]> {
  return sql<DeadPosition[]>`
    select id, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
    from threefactor.deliveries
    where trigger_name = ${p.trigger}
      and status = 'dead'
      and updated_at <= ${p.until}::text::timestamptz
      and (updated_at, id) > (${p.after.at}::text::timestamptz, ${p.after.id}::uuid)
    order by updated_at, id
    limit ${p.limit}`;
}
