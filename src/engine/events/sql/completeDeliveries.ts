/**
 * Writes a batch of outcomes in one statement: the deliveries' new state and
 * the attempts' log rows (a data-modifying CTE), so it is atomic without a
 * transaction block and costs one round trip. (A statement, not BEGIN …
 * COMMIT, also keeps a dying connection from failing in the driver's
 * rollback path: postgres.js 3.4.9 can crash the process there.)
 *
 * Only a delivery still leased by this dispatcher under the same claim
 * generation is changed: if its lease expired and another dispatcher took
 * it, the stale outcome is dropped (the attempt is still logged, marked not
 * applied). A release (drain at shutdown) puts the delivery back to pending
 * without counting or logging an attempt.
 *
 * Idempotent, because a connection lost after the statement committed
 * leaves the caller with an error for a write that happened, and it sends
 * the batch again: an attempt row is keyed by (delivery, attempt, claim
 * generation) (the unique delivery_attempts_delivery_idx), so the second
 * send finds the first one's row instead of logging the attempt twice, and
 * the delivery, no longer running under that claim, is not changed again.
 * The same statement appends one engine event for the batch,
 * `threefactor.deliveries.progressed` (../engineEvents.ts), listing every
 * outcome it applied (not the 'already' or 'lost' ones: those were, or will
 * be, reported by the send that applied them), so the realtime hub sees
 * attempts, retries, dead letters and releases as they happen. One row per
 * batch, never per outcome: its cost is one small insert and the NOTIFY the
 * hub wakes on (dispatchers do not listen to that channel).
 *
 * Each outcome comes back as one of:
 * - 'applied': written by this statement;
 * - 'already': an earlier send wrote it. For an outcome with an attempt
 *   that is exact: our attempt row under this claim exists and records that
 *   its outcome was applied. A release leaves no row, so it is judged by the
 *   delivery: not running under this claim and not claimed since, which is
 *   what the earlier send would have left, and also what the rescuer leaves
 *   when the lease expired first; only the caller knows whether it sent this
 *   before (completer.ts tells the two apart);
 * - 'lost': the lease was lost before it was written (re-claimed, or the
 *   delivery deleted): the stale-outcome case above.
 */
import { ENGINE_AGGREGATES, ENGINE_EVENTS } from '../engineEvents.js';
import { jsonParam, type Queryable } from './queryable.js';

export interface DeliveryOutcome {
  id: string;
  /** The delivery's trigger (not written: the claim loop learns from it whose successors may now be due). */
  trigger: string;
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
  outcome: 'delivered' | 'retry' | 'dead' | 'paused';
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

/** One outcome to write, with the attempt that produced it (absent for a release: nothing was attempted to the end). */
export interface Completion {
  outcome: DeliveryOutcome;
  attempt?: AttemptRecord;
}

/** What became of one outcome: written now, written by an earlier send of it, or dropped (lease lost). */
export type CompletionResult = 'applied' | 'already' | 'lost';

/** Returns the result of each completion, in the order given. */
export async function completeDeliveries(sql: Queryable, dispatcherId: string, completions: readonly Completion[]): Promise<CompletionResult[]> {
  if (completions.length === 0) return [];
  // What the result's select reads of each outcome, in batch order.
  const outcomeRows = completions.map(({ outcome: o, attempt }, n) => ({ n, id: o.id, claims: o.claims, logged: attempt !== undefined }));
  const attemptRows = completions.flatMap(({ outcome, attempt: a }) =>
    a
      ? [
          {
            delivery_id: a.deliveryId,
            attempt: a.attempt,
            // The claim the attempt ran under: what makes a re-sent row the same row.
            claim: outcome.claims,
            outcome: a.outcome,
            started_at: a.startedAt.toISOString(),
            duration_ms: Math.round(a.durationMs),
            http_status: a.httpStatus,
            response_body: a.responseBody,
            error: a.error,
          },
        ]
      : [],
  );
  // Each outcome by "<delivery id>:<claims>" (a batch may hold two claims of one delivery: an
  // outcome whose write failed, and the next claim's after the rescuer handed it back): what the
  // update writes, and its attempt's number, outcome and duration for the engine event. Built
  // once, each field once: this statement's parameters are per-delivery work on the drain's path.
  const byClaim: Record<string, unknown> = {};
  completions.forEach(({ outcome: o, attempt: a }, n) => {
    byClaim[`${o.id}:${o.claims}`] = {
      n,
      status: o.status,
      counted: o.counted,
      delay_ms: Math.max(0, Math.round(o.delayMs)),
      http_status: o.httpStatus,
      error: o.error,
      attempt: a?.attempt ?? null,
      outcome: a?.outcome ?? null,
      duration_ms: a ? Math.round(a.durationMs) : null,
    };
  });
  // Every sub-statement reads the snapshot taken before any of them ran, so
  // "already" can only come from rows an earlier statement wrote, and the
  // attempt rows learn what the update did from its RETURNING.
  //
  // No sub-statement joins two batch-sized sets: the outcomes are looked up by key in one jsonb
  // object (`p`, one row) and the update's rows by a hashed IN. Joins of the batch's CTEs were
  // planned as nested loops whenever statistics said few deliveries were running (a CTE has no
  // statistics), which made a statement quadratic in the batch (a 1,000-outcome batch took 0.7 s
  // against 2,400 running deliveries in a drain); a slow write grows the next batch, so one
  // such plan kept the completer behind for the rest of a drain.
  // `(select p.o from p)` is an InitPlan: the object is built once and read by reference. Joined as a
  // row source instead (`from p`), it was copied for every row scanned, about 20 µs a row for a
  // 1,000-outcome object, the larger part of the statement when the completer had fallen behind.
  const outcomes = sql`(select p.o from p)`;
  const outcomeOf = sql`(${outcomes} -> (d.id::text || ':' || d.claims))`;
  const rows = await sql<{ n: number; result: CompletionResult }[]>`
    with p as materialized (
      select ${jsonParam(byClaim)}::text::jsonb as o
    ),
    updated as (
      update threefactor.deliveries as d
      set status = (${outcomeOf} ->> 'status')::threefactor.delivery_status,
          attempts = d.attempts + (case when (${outcomeOf} ->> 'counted')::boolean then 1 else 0 end),
          run_at = case when ${outcomeOf} ->> 'status' = 'pending'
                        then now() + (${outcomeOf} ->> 'delay_ms')::bigint * interval '1 millisecond' else d.run_at end,
          last_status = case when (${outcomeOf} ->> 'counted')::boolean then (${outcomeOf} ->> 'http_status')::int else d.last_status end,
          last_error = case when (${outcomeOf} ->> 'counted')::boolean then ${outcomeOf} ->> 'error' else d.last_error end,
          locked_by = null,
          locked_until = null,
          updated_at = now(),
          completed_at = case when ${outcomeOf} ->> 'status' in ('delivered', 'dead') then now() end
      -- The batch's rows by id, not every running row of this dispatcher: when the completer is
      -- behind, thousands are running and only the batch's can match.
      where d.id = any(${completions.map((c) => c.outcome.id)}::uuid[])
        and d.status = 'running'
        and d.locked_by = ${dispatcherId}
        and ${outcomes} ? (d.id::text || ':' || d.claims)
      returning d.id, d.claims, d.event_id, d.trigger_name, d.attempts, ${outcomeOf} as x
    ),
    logged as (
      insert into threefactor.delivery_attempts as t (
        delivery_id, attempt, claim, applied, dispatcher_id, outcome, started_at, duration_ms, http_status, response_body, error
      )
      select a.delivery_id, a.attempt, a.claim, (a.delivery_id, a.claim) in (select u.id, u.claims from updated as u), ${dispatcherId},
             a.outcome, a.started_at, a.duration_ms, a.http_status, a.response_body, a.error
      from jsonb_to_recordset(${jsonParam(attemptRows)}::text::jsonb) as a(
        delivery_id uuid, attempt int, claim int, outcome text, started_at timestamptz, duration_ms int,
        http_status int, response_body text, error text
      )
      -- A delivery deleted meanwhile (retention) has nothing to log against.
      where exists (select 1 from threefactor.deliveries as d where d.id = a.delivery_id)
      -- Sent before (its commit's reply lost): keep that row. A no-op update rather than
      -- DO NOTHING so RETURNING yields the row even if that earlier statement committed
      -- after this one's snapshot (its backend still finishing when we re-sent).
      on conflict (delivery_id, attempt, claim) do update set applied = t.applied
      returning t.delivery_id, t.claim, t.applied, t.dispatcher_id
    ),
    lg as (
      select coalesce(jsonb_object_agg(l.delivery_id::text || ':' || l.claim, l.applied and l.dispatcher_id = ${dispatcherId}), '{}') as mine
      from logged as l
    ),
    -- The batch's one engine event: every outcome applied here (none: no row, no event). Ids, outcome,
    -- status and duration only; response bodies and errors stay in the attempt rows.
    progressed as (
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select ${ENGINE_EVENTS.deliveriesProgressed}, ${ENGINE_AGGREGATES.dispatcher}, ${dispatcherId},
             jsonb_build_object('dispatcher', ${dispatcherId}::text, 'outcomes', jsonb_agg(jsonb_build_object(
               'deliveryId', u.id, 'eventId', u.event_id, 'trigger', u.trigger_name,
               'attempt', coalesce((u.x ->> 'attempt')::int, u.attempts),
               'outcome', coalesce(u.x ->> 'outcome', 'released'),
               'httpStatus', (u.x ->> 'http_status')::int, 'durationMs', (u.x ->> 'duration_ms')::int) order by (u.x ->> 'n')::int))
      from updated as u
      having count(*) > 0
    )
    select o.n,
           case
             when (o.id, o.claims) in (select u.id, u.claims from updated as u) then 'applied'
             when o.logged then (case when (lg.mine -> (o.id::text || ':' || o.claims))::boolean then 'already' else 'lost' end)
             -- A release: no row to tell by, only whether the delivery was claimed again since.
             when exists (select 1 from threefactor.deliveries as d where d.id = o.id and d.claims = o.claims) then 'already'
             else 'lost'
           end as result
    from jsonb_to_recordset(${jsonParam(outcomeRows)}::text::jsonb) as o(n int, id uuid, claims int, logged boolean), lg
    order by o.n`;
  return rows.map((r) => r.result);
}
