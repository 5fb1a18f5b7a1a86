/**
 * The step rows an advance decides on, for the instances the claim before it
 * locked (./claimed.ts): the running
 * ones, the current ones (a retry starts again from a failed one), and those
 * a signal names (a timed-out call answering late); each call with its
 * delivery's status and, once delivered, the last delivered attempt's body
 * (the step's result).
 *
 * The signals' steps are found here rather than passed in, so this read need
 * not wait for readSignals' reply: the runner sends both at once. Sent after
 * it, this statement's snapshot is the later one, so it sees at least the
 * signals readSignals saw.
 */
import type { WorkflowPhase, WorkflowStepKind, WorkflowStepStatus } from '../../db/schema/workflows.js';
import type { Queryable } from '../../events/sql/queryable.js';
import { claimedIds } from './claimed.js';
import type { DeliveryState, StepState } from '../advance.js';

interface Row {
  id: string;
  instance_id: string;
  step_index: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  status: WorkflowStepStatus;
  attempt: number;
  delivery_id: string | null;
  delivery_status: DeliveryState | null;
  response_body: string | null;
}

export async function readStepStates(sql: Queryable): Promise<Array<StepState & { instanceId: string }>> {
  const rows = await sql<Row[]>`
    select s.id, s.instance_id, s.step_index, s.name, s.kind, s.phase, s.status, s.attempt, s.delivery_id,
           d.status::text as delivery_status,
           case when d.status = 'delivered' then (
             select a.response_body from threefactor.delivery_attempts as a
             where a.delivery_id = d.id and a.outcome = 'delivered' order by a.id desc limit 1
           ) end as response_body
    from threefactor.workflow_steps as s
    left join threefactor.deliveries as d on d.id = s.delivery_id
    where s.instance_id = any(${claimedIds(sql)})
      and (
        s.status = 'running'
        or s.id in (select i.current_step from threefactor.workflow_instances as i where i.id = any(${claimedIds(sql)}))
        or s.id in (select g.step_id from threefactor.workflow_signals as g where g.instance_id = any(${claimedIds(sql)}))
      )`;
  return rows.map((r) => ({
    id: r.id,
    instanceId: r.instance_id,
    stepIndex: r.step_index,
    name: r.name,
    kind: r.kind,
    phase: r.phase,
    status: r.status,
    attempt: r.attempt,
    deliveryId: r.delivery_id,
    delivery: r.delivery_status,
    responseBody: r.response_body,
  }));
}
