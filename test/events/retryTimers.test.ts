/**
 * Retries fire close to their due time, whatever the poll interval: the
 * dispatcher polls only every 30 s here, so every retry that is on time was
 * claimed by its own timer. Lateness is the retry attempt's start minus the
 * due time the database stored (run_at); both clocks are this machine's.
 */
import { describe, expect, it } from 'vitest';
import { RetryTimers } from '../../src/engine/dispatcher/retryTimers.js';
import { emitMany } from '../support/events.js';
import { waitFor } from '../support/receiver.js';
import { useDispatcher } from '../support/useDispatcher.js';

const EVENTS = 200;

const env = useDispatcher(({ receiver }) => {
  // Every delivery fails once (Retry-After-free, so the jittered backoff of 0.4–0.6 s spreads the due times), then succeeds.
  const seen = new Set<string>();
  receiver.respond((req) => {
    const first = !seen.has(req.json.id);
    seen.add(req.json.id);
    return { status: first ? 500 : 200 };
  });
  return {
    pollMs: 30_000,
    triggers: [
      {
        name: 'retried',
        match: { kind: 'event', types: ['timers.retried'] },
        target: { kind: 'webhook', url: `${receiver.url}/retried` },
        retry: { numRetries: 2, intervalSec: 0.5, timeoutSec: 5 },
      },
    ],
  };
});

describe('retry timers', () => {
  it('starts each retry within 50 ms of its due time at p99, with a 30 s poll', async () => {
    const { db } = env;
    // In small groups over a second, as failures arrive in production, so the due times interleave.
    for (let i = 0; i < 10; i++) {
      await emitMany(db, 'timers.retried', EVENTS / 10);
      env.dispatcher.wake();
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(
      'every retry delivered',
      async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = 'delivered'`)[0]!.n === EVENTS,
      20_000,
    );
    const late = await db.sql<{ ms: number }[]>`
      select extract(epoch from a.started_at - d.run_at)::float8 * 1000 as ms
      from threefactor.delivery_attempts as a
      join threefactor.deliveries as d on d.id = a.delivery_id
      where a.attempt = 2
      order by ms`;
    expect(late).toHaveLength(EVENTS);
    const p50 = late[Math.ceil(late.length * 0.5) - 1]!.ms;
    const p99 = late[Math.ceil(late.length * 0.99) - 1]!.ms;
    console.log(`retry lateness over ${late.length} retries: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    // Never early: a retry that ran before its run_at would mean the clocks were compared wrongly. started_at is a JS
    // Date (whole milliseconds, truncated) and run_at has microseconds, so a start on time may read up to 1 ms early.
    expect(late[0]!.ms).toBeGreaterThan(-1);
    // The goal is p99 ≤ 50 ms on this machine; the tolerance is another 50 ms for a CI run where a second test file shares its two cores.
    expect(p99).toBeLessThanOrEqual(100);
  });

  it('fires every time it was given, in order, not only the earliest', async () => {
    const fired: number[] = [];
    const t0 = performance.now();
    const timers = new RetryTimers(() => fired.push(performance.now() - t0));
    try {
      for (const ms of [120, 40, 80, 80.4, 200]) timers.add(ms);
      await waitFor('four wake-ups', () => fired.length >= 4, 2_000);
      // 80 and 80.4 share one wake-up.
      expect(fired).toHaveLength(4);
      const due = [40, 80, 120, 200];
      fired.forEach((at, i) => {
        expect(at).toBeGreaterThanOrEqual(due[i]!);
        expect(at - due[i]!).toBeLessThan(40);
      });
    } finally {
      timers.close();
    }
  });
});
