/**
 * A trigger's concurrency cap and rate limit hold across dispatchers: two
 * real `dispatch` child processes share one database and serve the same
 * triggers (synced here, declared in code), and a real HTTP receiver counts
 * what reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { spawnDispatcher, started, type DispatcherProcess } from '../support/dispatcherProcess.js';
import { emitMany } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;
const children: DispatcherProcess[] = [];
/** Requests open at the receiver right now, and the most ever open at once, per trigger. */
const open = new Map<string, number>();
const mostOpen = new Map<string, number>();

const webhook = (name: string, type: string, extra: Partial<TriggerDefinition>): TriggerDefinition => ({
  name,
  match: { kind: 'event', types: [type] },
  target: { kind: 'webhook', url: `${receiver.url}/${name}` },
  retry: { numRetries: 0, timeoutSec: 10 },
  ...extra,
});

async function twoDispatchers(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    // Two slots each for one trigger (and one more kept in reserve for the others, refill.ts): the capped
    // trigger could hold four in all, so its cap of 3 is reached only with both, and kept only if it holds across them.
    const child = spawnDispatcher({ DATABASE_URL: db.url, APP: 'none', DISPATCH_POLL_MS: '1000', DISPATCH_CONCURRENCY: '2' });
    children.push(child);
    await child.waitForLog(started);
  }
}

beforeAll(async () => {
  db = await freshDatabase();
  receiver = await startReceiver((req) => {
    const trigger = String(req.headers['x-threefactor-trigger']);
    const now = (open.get(trigger) ?? 0) + 1;
    open.set(trigger, now);
    mostOpen.set(trigger, Math.max(mostOpen.get(trigger) ?? 0, now));
    // Held long enough that, uncapped, many would be open at once.
    const delayMs = trigger === 'capped' ? 100 : 0;
    setTimeout(() => open.set(trigger, (open.get(trigger) ?? 1) - 1), delayMs);
    return { status: 200, delayMs };
  });
  await syncTriggers(db.sql, [
    webhook('capped', 'limits.capped', { concurrency: 3 }),
    webhook('rated', 'limits.rated', { ratePerSecond: 20 }),
    webhook('free', 'limits.free', {}),
  ]);
  await twoDispatchers();
});

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await receiver?.close();
  await db?.drop();
});

describe('limits across dispatchers', () => {
  it('never runs more deliveries of a capped trigger at once than its cap, whichever dispatcher runs them', async () => {
    await emitMany(db, 'limits.capped', 60);
    await waitFor('every capped delivery', () => receiver.forTrigger('capped').length >= 60, 30_000);
    expect(mostOpen.get('capped')).toBeLessThanOrEqual(3);
    // The cap is used, not just respected: three at once at some point.
    expect(mostOpen.get('capped')).toBe(3);
    const byDispatcher = await db.sql<{ dispatcher_id: string }[]>`
      select distinct a.dispatcher_id from threefactor.delivery_attempts as a
      join threefactor.deliveries as d on d.id = a.delivery_id where d.trigger_name = 'capped'`;
    expect(byDispatcher).toHaveLength(2);
  });

  it('starts no more deliveries of a rate-limited trigger than its rate allows, after one second’s burst', async () => {
    const t0 = Date.now();
    await emitMany(db, 'limits.rated', 80);
    await waitFor('every rated delivery', () => receiver.forTrigger('rated').length >= 80, 30_000);
    const times = receiver.forTrigger('rated').map((r) => (r.at - t0) / 1000);
    // A bucket of 20 (one second's worth) then 20/s: by time t at most 20 + 20t have started (2 of slack for clock reads).
    for (const [i, t] of times.sort((a, b) => a - b).entries()) expect(i + 1).toBeLessThanOrEqual(20 + 20 * t + 2);
    // And the limit paces rather than stalls: the 60 after the burst take about 3 s, not a poll interval each.
    expect(times.at(-1)!).toBeGreaterThan(2.5);
    expect(times.at(-1)!).toBeLessThan(6);
  });

  it('leaves an uncapped trigger alone while the others are held', async () => {
    const before = receiver.forTrigger('capped').length;
    await emitMany(db, 'limits.capped', 60);
    await emitMany(db, 'limits.free', 30);
    await waitFor('every free delivery', () => receiver.forTrigger('free').length >= 30, 10_000);
    const lastFree = Math.max(...receiver.forTrigger('free').map((r) => r.at));
    // 60 capped deliveries take ~2 s at 3 × 100 ms; the free ones, written after them, must not queue behind them:
    // all 30 arrive while most of the capped backlog still waits.
    const cappedByThen = receiver.forTrigger('capped').filter((r) => r.at <= lastFree).length - before;
    expect(cappedByThen).toBeLessThan(30);
    await waitFor('the capped backlog', () => receiver.forTrigger('capped').length >= before + 60, 30_000);
    expect(mostOpen.get('capped')).toBe(3);
  });
});
