/** Engine events for instances' transitions (started, completed, compensated, failed), so the realtime hub sees them. */
import { ENGINE_AGGREGATES } from '../../events/engineEvents.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';
import type { TransitionEvent } from '../advance.js';

export async function appendTransitionEvents(sql: Queryable, events: TransitionEvent[]): Promise<void> {
  if (events.length === 0) return;
  const records = events.map((e) => ({ type: e.type, instance_id: e.instanceId, payload: e.payload, cause_event: e.causeEvent }));
  await sql`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload, caused_by_event, caused_by_delivery)
    select type, ${ENGINE_AGGREGATES.workflow}, instance_id, payload, cause_event, null
    from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(type text, instance_id text, payload jsonb, cause_event uuid)`;
}
