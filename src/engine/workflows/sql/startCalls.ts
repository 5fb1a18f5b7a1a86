/**
 * Starts step calls, in one statement: each call's engine event (type
 * STEP_EVENT_TYPE, id = the step id, aggregate the instance, caused by the
 * event and delivery that moved the instance on), its delivery to the
 * handler's trigger (routing never delivers engine events, so the delivery is
 * made here, with the trigger's max_attempts), and its workflow_steps row
 * naming the delivery. Then the dispatchers are woken (DELIVERIES_CHANNEL, at
 * commit). A call whose trigger is not synced gets its event and step row but
 * no delivery; it is returned so the runner can say so.
 */
import type { StepPayload } from '../../../kit/contract.js';
import type { WorkflowPhase, WorkflowStepKind } from '../../db/schema/workflows.js';
import { DELIVERIES_CHANNEL } from '../../events/channels.js';
import { ENGINE_AGGREGATES, ENGINE_EVENTS } from '../../events/engineEvents.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export interface CallStart {
  id: string;
  instanceId: string;
  stepIndex: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  handler: string;
  attempt: number;
  trigger: string;
  payload: StepPayload;
  causeEvent: string | null;
  causeDelivery: string | null;
}

export async function startCalls(sql: Queryable, calls: CallStart[]): Promise<{ undelivered: string[] }> {
  if (calls.length === 0) return { undelivered: [] };
  const records = calls.map((c) => ({
    id: c.id,
    instance_id: c.instanceId,
    step_index: c.stepIndex,
    name: c.name,
    kind: c.kind,
    phase: c.phase,
    handler: c.handler,
    attempt: c.attempt,
    trigger: c.trigger,
    payload: c.payload,
    cause_event: c.causeEvent,
    cause_delivery: c.causeDelivery,
  }));
  const rows = await sql<{ id: string; delivered: boolean }[]>`
    with r as (
      select * from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(
        id uuid, instance_id uuid, step_index int, name text, kind text, phase text, handler text, attempt int,
        trigger text, payload jsonb, cause_event uuid, cause_delivery uuid)
    ), ev as (
      insert into threefactor.events (id, type, aggregate_type, aggregate_id, payload, caused_by_event, caused_by_delivery)
      select id, ${ENGINE_EVENTS.workflowStep}, ${ENGINE_AGGREGATES.workflow}, instance_id::text, payload, cause_event, cause_delivery from r
      returning id, xid, seq
    ), d as (
      insert into threefactor.deliveries (event_id, trigger_name, max_attempts, event_xid, event_seq)
      select ev.id, t.name, t.max_attempts, ev.xid, ev.seq
      from ev join r on r.id = ev.id join threefactor.event_triggers as t on t.name = r.trigger
      returning id, event_id
    ), s as (
      insert into threefactor.workflow_steps (id, instance_id, step_index, name, kind, phase, handler, attempt, delivery_id, started_at)
      select r.id, r.instance_id, r.step_index, r.name, r.kind, r.phase, r.handler, r.attempt, d.id, clock_timestamp()
      from r left join d on d.event_id = r.id
      returning id, delivery_id
    ), woken as (
      select pg_notify(${DELIVERIES_CHANNEL}, '') from (select 1 from d limit 1) as any_delivery
    )
    select s.id, s.delivery_id is not null as delivered from s, (select count(*) from woken) as w`;
  return { undelivered: rows.filter((r) => !r.delivered).map((r) => r.id) };
}
