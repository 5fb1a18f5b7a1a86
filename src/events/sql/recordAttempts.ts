/**
 * Stores a batch of attempts in one statement: every HTTP call or in-process
 * run that reached an outcome, with its status, duration and a truncated
 * response or error. Attempts of deliveries deleted meanwhile are skipped.
 */
import { jsonParam, type Queryable } from './queryable.js';

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

export async function recordAttempts(sql: Queryable, dispatcherId: string, attempts: AttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  const rows = attempts.map((a) => ({
    delivery_id: a.deliveryId,
    attempt: a.attempt,
    outcome: a.outcome,
    started_at: a.startedAt.toISOString(),
    duration_ms: Math.round(a.durationMs),
    http_status: a.httpStatus,
    response_body: a.responseBody,
    error: a.error,
  }));
  await sql`
    insert into delivery_attempts (
      delivery_id, attempt, dispatcher_id, outcome, started_at, duration_ms, http_status, response_body, error
    )
    select a.delivery_id, a.attempt, ${dispatcherId}, a.outcome, a.started_at, a.duration_ms, a.http_status, a.response_body, a.error
    from jsonb_to_recordset(${jsonParam(rows)}::text::jsonb) as a(
      delivery_id uuid, attempt int, outcome text, started_at timestamptz, duration_ms int,
      http_status int, response_body text, error text
    )
    where exists (select 1 from deliveries as d where d.id = a.delivery_id)`;
}
