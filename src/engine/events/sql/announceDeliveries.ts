/**
 * The engine event an operator's redeliver or replay appends, as a CTE of
 * the statement that changed the deliveries (so it commits with them): it
 * reads the statement's `changed` CTE (id, event_id, trigger_name) and
 * inserts one event listing them (../engineEvents.ts,
 * DeliveriesChangedPayload), at most ENGINE_EVENT_MAX_ITEMS of them with the
 * total, or nothing when none changed. Its aggregate is the trigger when all
 * are one trigger's (a replay always is), else `*`.
 */
import type postgres from 'postgres';
import { ENGINE_AGGREGATES, ENGINE_EVENT_MAX_ITEMS } from '../engineEvents.js';
import type { Queryable } from './queryable.js';

export function announceDeliveries(sql: Queryable, type: string): postgres.PendingQuery<postgres.Row[]> {
  return sql`announced as (
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select ${type}, ${ENGINE_AGGREGATES.trigger}, case when s.triggers = 1 then s.one_trigger else '*' end,
             jsonb_build_object('deliveries', l.listed, 'count', s.n, 'truncated', s.n > ${ENGINE_EVENT_MAX_ITEMS}::int)
      from (select count(*) as n, count(distinct trigger_name) as triggers, min(trigger_name) as one_trigger from changed) as s,
           lateral (
             select coalesce(jsonb_agg(jsonb_build_object('deliveryId', c.id, 'eventId', c.event_id, 'trigger', c.trigger_name)), '[]') as listed
             from (select * from changed limit ${ENGINE_EVENT_MAX_ITEMS}::int) as c
           ) as l
      where s.n > 0
    )`;
}
