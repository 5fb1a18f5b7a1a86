/** Waits that ended, or that an instance will no longer reach: their rows go, so new events stop matching them. */
import type { Queryable } from '../../events/sql/queryable.js';
import type { WaitTable } from './upsertWaits.js';

export async function deleteWaits(sql: Queryable, table: WaitTable, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await sql`delete from threefactor.${sql(table)} where instance_id = any(${instanceIds}::uuid[])`;
}
