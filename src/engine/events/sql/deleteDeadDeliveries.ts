/**
 * Retention, one batch, only when RETENTION_DEAD_DAYS is set: deletes up to
 * `limit` dead deliveries of one trigger that died more than `days` ago, with
 * their attempt logs. Oldest first, on deliveries_dead_idx
 * (trigger_name, updated_at) where status = 'dead'.
 */
import type { Queryable } from './queryable.js';

export async function deleteDeadDeliveries(
  sql: Queryable,
  p: { trigger: string; days: number; limit: number },
): Promise<{ deliveries: number; attempts: number }> {
  const [row] = await sql<{ deliveries: number; attempts: number }[]>`
    with doomed as (
      select id
      from threefactor.deliveries
      where trigger_name = ${p.trigger}
        and status = 'dead'
        and updated_at < now() - ${p.days}::float8 * interval '1 day'
      order by updated_at
      limit ${p.limit}
      for update skip locked
    ),
    attempts_gone as (
      delete from threefactor.delivery_attempts as a
      using doomed
      where a.delivery_id = doomed.id
      returning 1
    ),
    gone as (
      delete from threefactor.deliveries as d
      using doomed
      where d.id = doomed.id
      returning 1
    )
    select (select count(*) from gone)::int as deliveries,
           (select count(*) from attempts_gone)::int as attempts`;
  return row!;
}
