/**
 * Applies a batch of outcomes to their deliveries in one statement. Only a
 * delivery still leased by this dispatcher under the same claim generation is
 * changed: if its lease expired and another dispatcher took it, the stale
 * outcome is dropped (that dispatcher's own outcome will count).
 *
 * A release (drain at shutdown) puts the delivery back to pending without
 * counting an attempt.
 */
import { jsonParam, type Queryable } from './queryable.js';

export interface DeliveryOutcome {
  id: string;
  claims: number;
  status: 'delivered' | 'pending' | 'dead';
  /** false for a release: the attempt did not run to an outcome. */
  counted: boolean;
  /** For pending: how long until it may be claimed again. */
  delayMs: number;
  httpStatus: number | null;
  error: string | null;
}

export async function completeDeliveries(sql: Queryable, dispatcherId: string, outcomes: DeliveryOutcome[]): Promise<string[]> {
  if (outcomes.length === 0) return [];
  const rows = outcomes.map((o) => ({
    id: o.id,
    claims: o.claims,
    status: o.status,
    counted: o.counted,
    delay_ms: Math.max(0, Math.round(o.delayMs)),
    http_status: o.httpStatus,
    error: o.error,
  }));
  const done = await sql<{ id: string }[]>`
    update deliveries as d
    set status = o.status::delivery_status,
        attempts = d.attempts + (case when o.counted then 1 else 0 end),
        run_at = case when o.status = 'pending' then now() + o.delay_ms * interval '1 millisecond' else d.run_at end,
        last_status = case when o.counted then o.http_status else d.last_status end,
        last_error = case when o.counted then o.error else d.last_error end,
        locked_by = null,
        locked_until = null,
        updated_at = now(),
        completed_at = case when o.status in ('delivered', 'dead') then now() end
    from jsonb_to_recordset(${jsonParam(rows)}::text::jsonb) as o(
      id uuid, claims int, status text, counted boolean, delay_ms bigint, http_status int, error text
    )
    where d.id = o.id
      and d.claims = o.claims
      and d.locked_by = ${dispatcherId}
      and d.status = 'running'
    returning d.id`;
  return done.map((r) => r.id);
}
