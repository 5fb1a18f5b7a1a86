/** The earliest timer of an unfinished instance (workflow_instances_wake_idx), or null: when the runner's timer should fire. */
import type { Queryable } from '../../events/sql/queryable.js';

export async function nextWake(sql: Queryable): Promise<Date | null> {
  const [row] = await sql<{ at: Date | string | null }[]>`
    select min(wake_at) as at from threefactor.workflow_instances where finished_at is null and wake_at is not null`;
  return row?.at == null ? null : new Date(row.at);
}
