/**
 * What an attempt's result means for its delivery: 2xx delivered; anything
 * else (non-2xx, timeout, connection error, handler error) retries after a
 * backoff (or the receiver's Retry-After) until the last attempt, then dead.
 * A delivery handed back unattempted (a drain, a trigger not loaded here)
 * is released: pending again at once, the attempt not counted.
 */
import type { CompletedAttempt } from '../completer.js';
import type { ClaimedDelivery } from '../../events/sql/claimDeliveries.js';
import type { RetryPolicy } from '../../events/triggers/triggerDefinition.js';
import { parseRetryAfter, retryDelayMs } from './backoff.js';
import type { HttpResult } from './webhook.js';

export function decideOutcome(
  policy: RetryPolicy,
  d: ClaimedDelivery,
  result: HttpResult,
  startedAt: Date,
  durationMs: number,
  random?: () => number,
): CompletedAttempt {
  const attempt = d.attempts + 1;
  const httpStatus = result.kind === 'response' ? result.status : null;
  const ok = httpStatus !== null && httpStatus >= 200 && httpStatus < 300;
  const error = result.kind === 'error' ? result.error : ok ? null : `HTTP ${httpStatus}`;
  const responseBody = result.kind === 'response' ? result.body : null;
  const last = attempt >= d.maxAttempts;
  const status = ok ? 'delivered' : last ? 'dead' : 'pending';
  const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter) : undefined;
  const delayMs = status === 'pending' ? retryDelayMs(policy, attempt, retryAfter, random) : 0;
  return {
    outcome: { id: d.id, claims: d.claims, status, counted: true, delayMs, httpStatus, error },
    attempt: {
      deliveryId: d.id,
      attempt,
      outcome: ok ? 'delivered' : last ? 'dead' : 'retry',
      startedAt,
      durationMs,
      httpStatus,
      responseBody,
      error,
    },
  };
}

export function releasedOutcome(d: ClaimedDelivery): CompletedAttempt {
  return { outcome: { id: d.id, claims: d.claims, status: 'pending', counted: false, delayMs: 0, httpStatus: null, error: null } };
}
