/**
 * Workflow instances by id, in one statement (the `workflowInstance` query,
 * and the live subscription's batched re-read of every instance an event
 * touched in a hub tick). An id without an instance is left out.
 */
import type { Queryable } from '../../events/sql/queryable.js';
import { instanceColumns, instanceJoins, toInstanceRecord, type InstanceRow, type WorkflowInstanceRecord } from './instanceRecord.js';

export async function readWorkflowInstances(sql: Queryable, ids: readonly string[]): Promise<Map<string, WorkflowInstanceRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<InstanceRow[]>`
    select ${instanceColumns(sql)}
    from threefactor.workflow_instances as i
    ${instanceJoins(sql)}
    where i.id = any(${[...new Set(ids)]}::uuid[])`;
  return new Map(rows.map((r) => [r.id, toInstanceRecord(r)]));
}
