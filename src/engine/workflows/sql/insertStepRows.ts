/**
 * History rows of steps that make no call (a wait, a sleep): running unless finished in the same batch
 * (finishSteps). started_at is the clock's, not the transaction's, so rows of one batch keep their order.
 */
import type { WorkflowPhase, WorkflowStepKind } from '../../db/schema/workflows.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export interface StepRowInsert {
  id: string;
  instanceId: string;
  stepIndex: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  attempt: number;
}

/** A history row's columns, as this statement and ./startCalls.ts send them. */
export function stepRowRecord(r: StepRowInsert) {
  return { id: r.id, instance_id: r.instanceId, step_index: r.stepIndex, name: r.name, kind: r.kind, phase: r.phase, attempt: r.attempt };
}

export async function insertStepRows(sql: Queryable, rows: StepRowInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map(stepRowRecord);
  await sql`
    insert into threefactor.workflow_steps (id, instance_id, step_index, name, kind, phase, attempt, started_at)
    select id, instance_id, step_index, name, kind, phase, attempt, clock_timestamp()
    from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(id uuid, instance_id uuid, step_index int, name text, kind text, phase text, attempt int)`;
}
