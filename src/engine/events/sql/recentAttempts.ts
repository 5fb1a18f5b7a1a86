/**
 * The attempt logs of some deliveries (Hasura's invocation logs): per
 * delivery the latest `perDelivery` attempts, oldest first. A lateral
 * join walks delivery_attempts_delivery_idx once per delivery, so a
 * delivery redelivered many times never floods one read.
 */
import type { Queryable } from './queryable.js';

export interface AttemptLog {
  deliveryId: string;
  attempt: number;
  dispatcherId: string;
  outcome: 'delivered' | 'retry' | 'dead' | 'paused';
  /** ISO 8601 (the pool's drizzle client returns timestamps as PostgreSQL text, so it is formatted here). */
  startedAt: string;
  durationMs: number;
  httpStatus: number | null;
  /** The first few KB of the response, as stored. */
  responseBody: string | null;
  error: string | null;
}

export async function recentAttempts(sql: Queryable, deliveryIds: readonly string[], perDelivery: number): Promise<AttemptLog[]> {
  if (deliveryIds.length === 0) return [];
  const rows = await sql<AttemptLog[]>`
    select a.delivery_id as "deliveryId", a.attempt, a.dispatcher_id as "dispatcherId", a.outcome,
           to_json(a.started_at) #>> '{}' as "startedAt", a.duration_ms as "durationMs", a.http_status as "httpStatus",
           a.response_body as "responseBody", a.error
    from unnest(${deliveryIds as string[]}::uuid[]) as k(id)
    cross join lateral (
      select *
      from threefactor.delivery_attempts
      where delivery_id = k.id
      order by attempt desc, id desc
      limit ${perDelivery}
    ) as a`;
  return rows.sort((x, y) => x.attempt - y.attempt || x.startedAt.localeCompare(y.startedAt));
}
