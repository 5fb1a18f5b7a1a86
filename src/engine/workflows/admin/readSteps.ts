/**
 * The history of some workflow instances: every step execution
 * (threefactor.workflow_steps, a retry from a failed step being a new row),
 * oldest first, with its delivery's state (status and attempts made) for a
 * call. Batched over instances (the dataloader of `WorkflowInstance.history`).
 */
import type { WorkflowPhase, WorkflowStepKind, WorkflowStepStatus } from '../../db/schema/workflows.js';
import type { Queryable } from '../../events/sql/queryable.js';

export interface WorkflowStepRecord {
  /** The step id: the id of its `threefactor.workflow.step` event and its delivery's idempotency key. */
  id: string;
  instanceId: string;
  stepIndex: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  /** The handler key a call runs (null for a wait or a sleep). */
  handler: string | null;
  status: WorkflowStepStatus;
  attempt: number;
  deliveryId: string | null;
  deliveryStatus: string | null;
  deliveryAttempts: number | null;
  result: unknown;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

interface Row {
  id: string;
  instance_id: string;
  step_index: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  handler: string | null;
  status: WorkflowStepStatus;
  attempt: number;
  delivery_id: string | null;
  delivery_status: string | null;
  delivery_attempts: number | null;
  result: unknown;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export async function readWorkflowSteps(sql: Queryable, instanceIds: readonly string[]): Promise<WorkflowStepRecord[]> {
  if (instanceIds.length === 0) return [];
  const rows = await sql<Row[]>`
    select s.id, s.instance_id, s.step_index, s.name, s.kind, s.phase, s.handler, s.status, s.attempt, s.delivery_id,
           dl.status as delivery_status, dl.attempts as delivery_attempts, s.result, s.error,
           to_json(s.started_at) #>> '{}' as started_at, to_json(s.finished_at) #>> '{}' as finished_at
    from threefactor.workflow_steps as s
    left join threefactor.deliveries as dl on dl.id = s.delivery_id
    where s.instance_id = any(${[...new Set(instanceIds)]}::uuid[])
    order by s.instance_id, s.started_at, s.id`;
  return rows.map((r) => ({
    id: r.id,
    instanceId: r.instance_id,
    stepIndex: r.step_index,
    name: r.name,
    kind: r.kind,
    phase: r.phase,
    handler: r.handler,
    status: r.status,
    attempt: r.attempt,
    deliveryId: r.delivery_id,
    deliveryStatus: r.delivery_status,
    deliveryAttempts: r.delivery_attempts,
    result: r.result,
    error: r.error,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
  }));
}
