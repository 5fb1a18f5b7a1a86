/** Signals an advance consumed (every signal read for the batch: those for an earlier step are stale). */
import type { Queryable } from '../../events/sql/queryable.js';

export async function deleteSignals(sql: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`delete from threefactor.workflow_signals where id = any(${ids}::bigint[])`;
}
