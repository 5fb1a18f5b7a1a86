/** Retry timing: exponential backoff with jitter and Retry-After parsing (pure functions). */
import { describe, expect, it } from 'vitest';
import { backoffMs, parseRetryAfter, retryDelayMs } from '../../src/engine/dispatcher/delivery/backoff.js';
import type { RetryPolicy } from '../../src/engine/events/triggers/triggerDefinition.js';

const policy: RetryPolicy = { numRetries: 10, intervalSec: 2, maxIntervalSec: 60, timeoutSec: 5 };

describe('retry backoff', () => {
  it('doubles from the interval, capped, with at most ±20% jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(policy, a, mid))).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(backoffMs(policy, 1, () => 0)).toBe(1_600);
    expect(backoffMs(policy, 1, () => 1)).toBe(2_400);
    // Jitter never exceeds the cap.
    expect(backoffMs(policy, 10, () => 1)).toBe(60_000);
    expect(backoffMs(policy, 1_000, () => 0.5)).toBe(60_000);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('lets Retry-After win over the backoff, up to the cap', () => {
    expect(retryDelayMs(policy, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(policy, 5, 1_000, () => 0.5)).toBe(1_000);
    expect(retryDelayMs(policy, 1, 3_600_000, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(policy, 3, undefined, () => 0.5)).toBe(8_000);
  });
});
