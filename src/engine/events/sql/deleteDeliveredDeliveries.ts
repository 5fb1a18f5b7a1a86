/**
 * Retention, one batch: deletes up to `limit` deliveries of one trigger that
 * were delivered more than `days` ago, with their attempt logs. Dead, pending
 * and running deliveries are never touched here.
 *
 * Walks deliveries_trigger_idx (trigger_name, created_at) forward from
 * `from` (the `last` of the previous batch): completed_at >= created_at, so
 * "delivered before the cutoff" implies "created before the cutoff", which
 * bounds the index range, and old rows that stay (dead letters) are stepped
 * over once per run instead of rescanned by every batch.
 */
import type { Queryable } from './queryable.js';

export interface DeletedBatch {
  deliveries: number;
  attempts: number;
  /** created_at of the last row deleted (exact text), to continue from; null when none was. */
  last: string | null;
}

export const RETENTION_START = '-infinity';

export async function deleteDeliveredDeliveries(
  sql: Queryable,
  p: { trigger: string; days: number; from: string; limit: number },
): Promise<DeletedBatch> {
  const [row] = await sql<DeletedBatch[]>`
    with doomed as (
      select id, created_at
      from threefactor.deliveries
      where trigger_name = ${p.trigger}
        and created_at >= ${p.from}::text::timestamptz
        and created_at < now() - ${p.days}::float8 * interval '1 day'
        and status = 'delivered'
        and completed_at < now() - ${p.days}::float8 * interval '1 day'
      order by created_at
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
      returning doomed.created_at
    )
    select (select count(*) from gone)::int as deliveries,
           (select count(*) from attempts_gone)::int as attempts,
           (select max(created_at) from gone)::text as last`;
  return row!;
}
