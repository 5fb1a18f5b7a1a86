/**
 * Starts step calls, in one statement: each call's engine event (type
 * STEP_EVENT_TYPE, id = the step id, aggregate the instance, caused by the
 * event and delivery that moved the instance on), its delivery to the
 * handler's trigger (routing never delivers engine events, so the delivery is
 * made here, with the trigger's max_attempts), and its workflow_steps row
 * naming the delivery. Then the dispatchers are woken (DELIVERIES_CHANNEL, at
 * commit). A call whose trigger is not synced gets its event and step row but
 * no delivery; it is returned so the runner can say so.
 *
 * Eager calls (../../dispatcher/eagerCalls.ts): up to `eager.reserved` of a
 * trigger are written already leased to `eager.dispatcherId` (running, claim
 * 1, as a claim would leave them) unless the trigger is paused, and returned
 * as claimed deliveries to run once the batch commits; only the pending ones
 * wake a dispatcher.
 */
import type { StepPayload } from '../../../kit/contract.js';
import type { Reservation } from '../../dispatcher/eagerCalls.js';
import { DELIVERIES_CHANNEL } from '../../events/channels.js';
import { toClaimedDelivery, type ClaimedDelivery, type ClaimedRow } from '../../events/sql/claimDeliveries.js';
import { ENGINE_AGGREGATES, ENGINE_EVENTS } from '../../events/engineEvents.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';
import { stepRowRecord, type StepRowInsert } from './insertStepRows.js';

/** A call step's history row (as insertStepRows writes the others') and what its call carries. */
export interface CallStart extends StepRowInsert {
  handler: string;
  trigger: string;
  payload: StepPayload;
  causeEvent: string | null;
  causeDelivery: string | null;
}

export interface EagerLease {
  dispatcherId: string;
  leaseMs: number;
  reserved: Reservation;
}

export interface StartedCalls {
  /** Step ids whose trigger is not synced: no delivery made. */
  undelivered: string[];
  /** Deliveries written leased to `eager.dispatcherId`, to run once the batch commits. */
  eager: ClaimedDelivery[];
}

export async function startCalls(sql: Queryable, calls: CallStart[], eager?: EagerLease): Promise<StartedCalls> {
  if (calls.length === 0) return { undelivered: [], eager: [] };
  const left = new Map(eager?.reserved);
  const records = calls.map((c) => {
    const n = left.get(c.trigger) ?? 0;
    if (n > 0) left.set(c.trigger, n - 1);
    return {
      ...stepRowRecord(c),
      handler: c.handler,
      trigger: c.trigger,
      payload: c.payload,
      cause_event: c.causeEvent,
      cause_delivery: c.causeDelivery,
      eager: n > 0,
    };
  });
  const rows = await sql<Array<{ step_id: string; delivered: boolean } & Partial<ClaimedRow>>>`
    with r as (
      select * from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(
        id uuid, instance_id uuid, step_index int, name text, kind text, phase text, handler text, attempt int,
        trigger text, payload jsonb, cause_event uuid, cause_delivery uuid, eager boolean)
    ), ev as (
      insert into threefactor.events (id, type, aggregate_type, aggregate_id, payload, caused_by_event, caused_by_delivery)
      select id, ${ENGINE_EVENTS.workflowStep}, ${ENGINE_AGGREGATES.workflow}, instance_id::text, payload, cause_event, cause_delivery from r
      returning id, xid, seq, type, aggregate_type, aggregate_id, payload, session, trace_context, created_at
    ), made as (
      select ev.id as event_id, ev.xid, ev.seq, t.name, t.max_attempts, r.eager and not t.paused as here
      from ev join r on r.id = ev.id join threefactor.event_triggers as t on t.name = r.trigger
    ), d as (
      insert into threefactor.deliveries (event_id, trigger_name, max_attempts, event_xid, event_seq, status, locked_by, locked_until, claims)
      select event_id, name, max_attempts, xid, seq,
             case when here then 'running' else 'pending' end::threefactor.delivery_status,
             case when here then ${eager?.dispatcherId ?? null}::text end,
             case when here then now() + ${eager?.leaseMs ?? 0} * interval '1 millisecond' end,
             case when here then 1 else 0 end
      from made
      returning id, event_id, trigger_name, attempts, max_attempts, claims, ordering_key, source, status
    ), s as (
      insert into threefactor.workflow_steps (id, instance_id, step_index, name, kind, phase, handler, attempt, delivery_id, started_at)
      select r.id, r.instance_id, r.step_index, r.name, r.kind, r.phase, r.handler, r.attempt, d.id, clock_timestamp()
      from r left join d on d.event_id = r.id
      returning id, delivery_id
    ), woken as (
      select pg_notify(${DELIVERIES_CHANNEL}, '') from (select 1 from d where d.status = 'pending' limit 1) as any_pending
    )
    select s.id as step_id, s.delivery_id is not null as delivered,
           d.id, d.trigger_name, d.attempts, d.max_attempts, d.claims, d.ordering_key, d.source,
           ev.id as event_id, ev.type, ev.aggregate_type, ev.aggregate_id, ev.payload, ev.session, ev.trace_context,
           to_json(ev.created_at) #>> '{}' as created_at
    from s
    left join d on d.id = s.delivery_id and d.status = 'running'
    left join ev on ev.id = d.event_id,
    (select count(*) from woken) as w`;
  return {
    undelivered: rows.filter((r) => !r.delivered).map((r) => r.step_id),
    eager: rows.filter((r) => r.id != null).map((r) => toClaimedDelivery(r as ClaimedRow)),
  };
}
