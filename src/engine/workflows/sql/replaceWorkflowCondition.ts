/**
 * Gives threefactor.workflow_condition the body sync compiled from every
 * stored start and wait condition (threefactor.replace_workflow_condition in
 * drizzle/engine/…_workflows: no catalog write when unchanged, the new body
 * run once before the sync commits). Returns whether it changed.
 */
import type { Queryable } from '../../events/sql/queryable.js';

export async function replaceWorkflowCondition(sql: Queryable, body: string): Promise<boolean> {
  const [row] = await sql<{ changed: boolean }[]>`select threefactor.replace_workflow_condition(${body}::text) as changed`;
  return row?.changed ?? false;
}
