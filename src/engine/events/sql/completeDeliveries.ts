/**
 * Writes a batch of outcomes in one statement: the deliveries' new state and
 * the attempts' log rows (a data-modifying CTE), so it is atomic without a
 * transaction block and costs one round trip. (A statement, not BEGIN …
 * COMMIT, also keeps a dying connection from failing in the driver's
 * rollback path: postgres.js 3.4.9 can crash the process there.)
 *
 * Only a delivery still leased by this dispatcher under the same claim
 * generation is changed: if its lease expired and another dispatcher took
 * it, the stale outcome is dropped (the attempt is still logged).
 * A release (drain at shutdown) puts the delivery back to pending without
 * counting or logging an attempt.
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

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  outcome: 'delivered' | 'retry' | 'dead';
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

/** Returns the ids of the deliveries whose outcome was applied. */
export async function completeDeliveries(
  sql: Queryable,
  dispatcherId: string,
  outcomes: DeliveryOutcome[],
  attempts: AttemptRecord[],
): Promise<string[]> {
  if (outcomes.length === 0) return [];
  const outcomeRows = outcomes.map((o) => ({
    id: o.id,
    claims: o.claims,
    status: o.status,
    counted: o.counted,
    delay_ms: Math.max(0, Math.round(o.delayMs)),
    http_status: o.httpStatus,
    error: o.error,
  }));
  const attemptRows = attempts.map((a) => ({
    delivery_id: a.deliveryId,
    attempt: a.attempt,
    outcome: a.outcome,
    started_at: a.startedAt.toISOString(),
    duration_ms: Math.round(a.durationMs),
    http_status: a.httpStatus,
    response_body: a.responseBody,
    error: a.error,
  }));
  const done = await sql<{ id: string }[]>`
    with logged as (
      insert into threefactor.delivery_attempts (
        delivery_id, attempt, dispatcher_id, outcome, started_at, duration_ms, http_status, response_body, error
      )
      select a.delivery_id, a.attempt, ${dispatcherId}, a.outcome, a.started_at, a.duration_ms, a.http_status, a.response_body, a.error
      from jsonb_to_recordset(${jsonParam(attemptRows)}::text::jsonb) as a(
        delivery_id uuid, attempt int, outcome text, started_at timestamptz, duration_ms int,
        http_status int, response_body text, error text
      )
      -- A delivery deleted meanwhile (retention) has nothing to log against.
      where exists (select 1 from threefactor.deliveries as d where d.id = a.delivery_id)
    )
    update threefactor.deliveries as d
    set status = o.status::threefactor.delivery_status,
        attempts = d.attempts + (case when o.counted then 1 else 0 end),
        run_at = case when o.status = 'pending' then now() + o.delay_ms * interval '1 millisecond' else d.run_at end,
        last_status = case when o.counted then o.http_status else d.last_status end,
        last_error = case when o.counted then o.error else d.last_error end,
        locked_by = null,
        locked_until = null,
        updated_at = now(),
        completed_at = case when o.status in ('delivered', 'dead') then now() end
    from jsonb_to_recordset(${jsonParam(outcomeRows)}::text::jsonb) as o(
      id uuid, claims int, status text, counted boolean, delay_ms bigint, http_status int, error text
    )
    where d.id = o.id
      and d.claims = o.claims
      and d.locked_by = ${dispatcherId}
      and d.status = 'running'
    returning d.id`;
  return done.map((r) => r.id);
}
