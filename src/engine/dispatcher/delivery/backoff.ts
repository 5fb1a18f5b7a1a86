/**
 * When to try again: exponential backoff from the trigger's interval,
 * capped, with ±20% jitter so a burst of failures does not retry in lockstep;
 * a Retry-After from the receiver takes precedence (capped the same way).
 */
import type { RetryPolicy } from '../../events/triggers/triggerDefinition.js';

/** Delay after failed attempt number `attempt` (1-based). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const max = policy.maxIntervalSec * 1000;
  const base = Math.min(max, policy.intervalSec * 1000 * 2 ** Math.min(attempt - 1, 30));
  return Math.round(Math.min(max, base * (0.8 + 0.4 * random())));
}

/** A Retry-After header (delay-seconds or HTTP-date) as milliseconds from `now`, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names its day and month; anything else ("-5", "soon") is ignored.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random?: () => number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxIntervalSec * 1000);
  return backoffMs(policy, attempt, random);
}
