/**
 * What an attempt's result means for its delivery, by the trigger's outcome
 * policy and the wire contract's rule (`statusOutcome`, src/kit/contract.ts),
 * the same for webhook and in-process targets:
 * - 2xx: delivered;
 * - 410 when the trigger pauses on Gone: 'paused', the delivery pending again
 *   at once with the attempt not counted (the caller pauses the trigger
 *   before this is written, so it waits for the resume and then continues
 *   where it stopped);
 * - a status in the trigger's permanent statuses: dead at once;
 * - anything else (other statuses, timeout, connection error, handler error):
 *   retried after a backoff (or the receiver's Retry-After) until the last
 *   attempt, then dead.
 * A delivery handed back unattempted (a drain, a trigger not loaded here)
 * is released: pending again at once, the attempt not counted.
 */
import { DEFAULT_STATUS_POLICY, statusOutcome } from '../../../kit/contract.js';
import type { CompletedAttempt } from '../completer.js';
import type { ClaimedDelivery } from '../../events/sql/claimDeliveries.js';
import type { OutcomePolicy, RetryPolicy } from '../../events/triggers/triggerDefinition.js';
import { parseRetryAfter, retryDelayMs } from './backoff.js';
import type { HttpResult } from './webhook.js';

export function decideOutcome(
  policy: RetryPolicy,
  d: ClaimedDelivery,
  result: HttpResult,
  startedAt: Date,
  durationMs: number,
  rules: OutcomePolicy = DEFAULT_STATUS_POLICY,
  random?: () => number,
): CompletedAttempt {
  const attempt = d.attempts + 1;
  const httpStatus = result.kind === 'response' ? result.status : null;
  const responseBody = result.kind === 'response' ? result.body : null;
  // No answer at all (timeout, connection, handler error) is always worth another try.
  const decided = httpStatus === null ? 'retry' : statusOutcome(httpStatus, rules);
  const last = attempt >= d.maxAttempts;

  if (decided === 'paused') {
    const error = `HTTP ${httpStatus} Gone: trigger paused`;
    return {
      outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status: 'pending', counted: false, delayMs: 0, httpStatus, error },
      attempt: { deliveryId: d.id, attempt, outcome: 'paused', startedAt, durationMs, httpStatus, responseBody, error },
    };
  }

  const status = decided === 'delivered' ? 'delivered' : decided === 'dead' || last ? 'dead' : 'pending';
  const error =
    result.kind === 'error' ? result.error : decided === 'delivered' ? null : decided === 'dead' ? `HTTP ${httpStatus} is a permanent status for this trigger` : `HTTP ${httpStatus}`;
  const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter) : undefined;
  const delayMs = status === 'pending' ? retryDelayMs(policy, attempt, retryAfter, random) : 0;
  return {
    outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status, counted: true, delayMs, httpStatus, error },
    attempt: {
      deliveryId: d.id,
      attempt,
      outcome: status === 'delivered' ? 'delivered' : status === 'dead' ? 'dead' : 'retry',
      startedAt,
      durationMs,
      httpStatus,
      responseBody,
      error,
    },
  };
}

export function releasedOutcome(d: ClaimedDelivery): CompletedAttempt {
  return { outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status: 'pending', counted: false, delayMs: 0, httpStatus: null, error: null } };
}
