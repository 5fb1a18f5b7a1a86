/**
 * Makes deliveries due now with a fresh retry budget (their trigger's
 * max_attempts on top of the attempts already made): dead ones come back,
 * delivered ones are sent again, pending ones skip their backoff. Running
 * ones are left to finish. Returns the ids changed, and appends
 * `threefactor.deliveries.redelivered` naming them in the same statement.
 */
import { ENGINE_EVENTS } from '../engineEvents.js';
import { announceDeliveries } from './announceDeliveries.js';
import type { Queryable } from './queryable.js';

export async function redeliverDeliveries(sql: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    with changed as (
      update threefactor.deliveries as d
      set status = 'pending',
          run_at = now(),
          max_attempts = d.attempts + t.max_attempts,
          completed_at = null,
          updated_at = now()
      from threefactor.event_triggers as t
      where d.id = any(${ids}::uuid[])
        and t.name = d.trigger_name
        and d.status <> 'running'
      returning d.id, d.event_id, d.trigger_name
    ),
    ${announceDeliveries(sql, ENGINE_EVENTS.deliveriesRedelivered)}
    select id from changed`;
  return rows.map((r) => r.id);
}
