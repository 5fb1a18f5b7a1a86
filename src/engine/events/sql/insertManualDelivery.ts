/**
 * Hasura's manual invocation: appends a MANUAL event for a row of the
 * trigger's table (op MANUAL, data.new = the row) and a delivery of it to
 * that trigger only, in one statement. The event goes through the log like
 * any other, so it is audited and replayable.
 */
import { DELIVERIES_CHANNEL } from '../channels.js';
import { jsonParam, type Queryable } from './queryable.js';

export async function insertManualDelivery(
  sql: Queryable,
  triggerName: string,
  row: Record<string, unknown>,
): Promise<{ deliveryId: string; eventId: string } | undefined> {
  const [created] = await sql<{ id: string; event_id: string }[]>`
    with e as (
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select t.capture_table || '.MANUAL',
             'table:' || t.capture_table,
             coalesce(${jsonParam(row)}::text::jsonb ->> 'id', ''),
             jsonb_build_object('op', 'MANUAL', 'data', jsonb_build_object('old', null, 'new', ${jsonParam(row)}::text::jsonb))
      from threefactor.event_triggers as t
      where t.name = ${triggerName} and t.match_kind = 'table'
      returning *
    ),
    d as (
      insert into threefactor.deliveries (event_id, trigger_name, source, max_attempts, ordering_key, event_xid, event_seq)
      select e.id, t.name, 'manual', t.max_attempts, threefactor.ordering_key(t, e::threefactor.events), e.xid, e.seq
      from e, threefactor.event_triggers as t
      where t.name = ${triggerName}
      returning id, event_id
    )
    -- Routing did not make this delivery, so it sent no wake-up: dispatchers listen for deliveries, not events.
    select d.id, d.event_id, pg_notify(${DELIVERIES_CHANNEL}, '') from d`;
  return created && { deliveryId: created.id, eventId: created.event_id };
}
