/**
 * The claim loop never waits for its poll while a backlogged trigger has
 * free slots. The race it had: a wake-up (a NOTIFY, the poll) arrives while
 * the busy trigger holds all its slots, so it claims for an idle trigger
 * only; the busy trigger's attempts end during that claim (a slot freed
 * while claiming is not recorded), the claim comes back empty, and the loop
 * waited for slots that were already free, until the next poll. With the 1 s
 * default poll, a drain beside one idle trigger ran at ~4,500/s where it had
 * run at ~10,000/s (issue 9).
 *
 * Deterministic: a real claim loop, attempts, completer and PostgreSQL, an
 * in-process handler the test holds, and a poll of a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attempts } from '../../src/engine/dispatcher/attempts.js';
import { ClaimLoop } from '../../src/engine/dispatcher/claimLoop.js';
import { Completer } from '../../src/engine/dispatcher/completer.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { fairRefill } from '../../src/engine/dispatcher/refill.js';
import { TriggerRegistry } from '../../src/engine/events/triggers/registry.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { InProcessHandler } from '../../src/engine/events/triggers/triggerDefinition.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitMany, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';

const log = testLog();
let db: TestDatabase;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  db = await freshDatabase();
  await syncTriggers(db.sql, [
    { name: 'busy', match: { kind: 'event', types: ['stall.busy'] }, target: { kind: 'inProcess', handler: 'hold' } },
    // Never matched: every wake-up asks it too, as production's quiet triggers are asked.
    { name: 'idle', match: { kind: 'event', types: ['stall.idle'] }, target: { kind: 'inProcess', handler: 'hold' } },
  ]);
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await db?.drop();
});

describe('claim loop refill', () => {
  it('claims again for the busy trigger when its slots came free during a claim for another trigger, without waiting for the poll', async () => {
    const waiting: Array<() => void> = [];
    let calls = 0;
    const hold: InProcessHandler = () => new Promise<void>((resolve) => void (calls++, waiting.push(resolve)));
    const handlers = { hold };
    const registry = new TriggerRegistry(db.sql, handlers);
    await registry.refresh();
    const completer = new Completer({ sql: db.sql, dispatcherId: 'stall-test', log, maxBatch: 50, delayMs: 5, onFlushed: () => {} });
    const attempts: Attempts = new Attempts({
      registry,
      context: { signer: webhookSigner(TEST_WEBHOOK_SECRET), env: {}, handlers },
      completer,
      log,
      onSettled: () => loop.slotFreed(),
      onUnknownTrigger: () => {},
    });
    const loop: ClaimLoop = new ClaimLoop({
      sql: db.sql,
      dispatcherId: 'stall-test',
      log,
      registry,
      attempts,
      unwritten: () => completer.size,
      refill: fairRefill(50, 50),
      pollMs: 60_000,
      leaseMs: 30_000,
    });
    await emitMany(db, 'stall.busy', 200);
    await completer.start();
    await attempts.start();
    await loop.start();
    stops.push(
      () => completer.stop(Date.now() + 5_000),
      () => attempts.stop(Date.now() + 1_000),
      () => loop.stop(Date.now() + 1_000),
    );
    // The first claim fills the busy trigger's 50 slots; the loop then waits for slots.
    await waitFor(() => calls === 50 && loop.state === 'waitingForSlots', 'fifty attempts running, the loop waiting for slots');

    // A wake-up now claims for the idle trigger alone (the busy one has no free slot)…
    loop.wake();
    expect(loop.state).toBe('claiming');
    // …and while that claim is in flight, every busy attempt ends.
    for (const resolve of waiting.splice(0)) resolve();

    // The freed slots are claimed at once: the next fifty start long before a poll (a minute) could come.
    await waitFor(() => calls === 100, `the next fifty started without a poll (started: ${calls}, loop ${loop.state})`, 5_000);
    expect(calls).toBe(100);
  });
});
