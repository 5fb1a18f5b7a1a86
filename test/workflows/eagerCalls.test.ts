/**
 * Eager step calls (src/engine/dispatcher/eagerCalls.ts): the step calls a
 * runner batch starts run on its own dispatcher once the batch commits,
 * without a NOTIFY and a claim, but never beyond the dispatcher's slots, and
 * never for a paused trigger. What is seen: the deliveries channel (a
 * pending step call wakes the dispatchers on it, an eager one does not), the
 * handlers' own count of calls running at once, and the delivery rows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { DELIVERIES_CHANNEL } from '../../src/engine/events/channels.js';
import { setTriggerPaused } from '../../src/engine/events/sql/setTriggerPaused.js';
import { workflowTriggerName } from '../../src/engine/workflows/triggers.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { history, instancesByKey, StepRecorder, twoCallWorkflow } from './support.js';

const twoCalls = twoCallWorkflow('eager-two-calls', 'eg.started');
const STEP_TRIGGER = workflowTriggerName(twoCalls.name, twoCalls.version, 'step');

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
let rec: StepRecorder;
let wakeUps = 0;
let unlisten: (() => Promise<void>) | undefined;

const start = async (concurrency: number) => {
  rec = new StepRecorder();
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    concurrency,
    workflows: [twoCalls],
    inProcessHandlers: rec.handlers(['step']),
  });
};

const startInstances = (keys: string[]) =>
  emitEvents(
    db,
    keys.map((key) => ({ type: 'eg.started', aggregateType: 'test', aggregateId: key, payload: { key } })),
  );

const completed = async (key: string) => (await instancesByKey(db, key))[0]?.status === 'completed';

beforeAll(async () => {
  db = await freshDatabase();
  const listening = await db.sql.listen(DELIVERIES_CHANNEL, () => void wakeUps++);
  unlisten = () => listening.unlisten();
});
afterEach(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  dispatcher = undefined;
});
afterAll(async () => {
  await unlisten?.();
  await db?.drop();
});

describe('eager step calls', () => {
  it("run on the batch's own dispatcher without waking any: no notification on the deliveries channel", async () => {
    await start(10);
    const before = wakeUps;
    await startInstances(['alone']);
    await waitFor(() => completed('alone'), 'the instance completed', 15_000);
    expect(rec.forKey('alone').map((c) => c.step)).toEqual(['first', 'second']);
    // Both calls' deliveries were made, run and written like any other: one attempt each, delivered.
    const [instance] = await instancesByKey(db, 'alone');
    const rows = await db.sql<{ status: string; attempts: number; claims: number }[]>`
      select d.status::text, d.attempts, d.claims from threefactor.deliveries as d
      join threefactor.workflow_steps as s on s.delivery_id = d.id where s.instance_id = ${instance!.id}`;
    expect(rows).toEqual([
      { status: 'delivered', attempts: 1, claims: 1 },
      { status: 'delivered', attempts: 1, claims: 1 },
    ]);
    // Let any notification in flight arrive before counting.
    await new Promise((r) => setTimeout(r, 200));
    expect(wakeUps - before).toBe(0);
  });

  it('never run more at once than the slots; the calls beyond them are written pending and claimed as they free', async () => {
    await start(2);
    let running = 0;
    let most = 0;
    rec.on('step', async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 100));
      running--;
      return { ok: true };
    });
    const before = wakeUps;
    const keys = Array.from({ length: 6 }, (_, i) => `capped-${i}`);
    await startInstances(keys);
    for (const key of keys) await waitFor(() => completed(key), `${key} completed`, 20_000);
    expect(most).toBe(2);
    expect([...rec.countsByStep().values()]).toEqual(Array(12).fill(1));
    // Six first calls in one batch with two slots: four at least were left to the claim.
    expect(wakeUps - before).toBeGreaterThan(0);
  });

  it("of a paused trigger are written pending and not run; resuming it runs them", async () => {
    await start(10);
    await setTriggerPaused(db.sql, STEP_TRIGGER, true, 'test');
    try {
      await startInstances(['paused']);
      await waitFor(async () => (await instancesByKey(db, 'paused'))[0] !== undefined, 'the instance started', 10_000);
      const [instance] = await instancesByKey(db, 'paused');
      await waitFor(async () => (await history(db, instance!.id)).length === 1, 'the first call was started', 10_000);
      await new Promise((r) => setTimeout(r, 600));
      expect(rec.forKey('paused')).toHaveLength(0);
      const rows = await db.sql<{ status: string; locked_by: string | null }[]>`
        select d.status::text, d.locked_by from threefactor.deliveries as d
        join threefactor.workflow_steps as s on s.delivery_id = d.id where s.instance_id = ${instance!.id}`;
      expect(rows).toEqual([{ status: 'pending', locked_by: null }]);
    } finally {
      await setTriggerPaused(db.sql, STEP_TRIGGER, false);
    }
    dispatcher!.wake();
    await waitFor(() => completed('paused'), 'the instance completed after the resume', 15_000);
    expect(rec.forKey('paused').map((c) => c.step)).toEqual(['first', 'second']);
  });
});
