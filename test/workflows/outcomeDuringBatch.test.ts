/**
 * The two ways a step call's settled outcome is written. With the runner
 * idle it goes into the runner's next batch; with a batch under way it goes
 * to the completer, which writes it at once (not after its batching delay,
 * here one minute) rather than wait for that batch. Made deterministic with
 * a row lock of the test's own: the runner's batch writing A's outcome is
 * held on A's delivery row, so it is under way when B's outcome comes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { history, instancesByKey, StepRecorder, twoCallWorkflow } from './support.js';

const twoCalls = twoCallWorkflow('outcome-during-batch', 'odb.started', 30);

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
const rec = new StepRecorder();
/** The first step's calls answer when the test says, per instance key. */
const release = new Map<string, () => void>();

beforeAll(async () => {
  db = await freshDatabase();
  rec.on('step', (call) => (call.step === 'first' ? new Promise<void>((resolve) => release.set(call.key, resolve)).then(() => ({ key: call.key })) : { done: true }));
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    // No batching delay that a test would wait for, and no poll: every batch is one an outcome or a start caused.
    flushMs: 60_000,
    workflowPollMs: 60_000,
    workflows: [twoCalls],
    inProcessHandlers: rec.handlers(['step']),
  });
});
afterAll(async () => {
  for (const r of release.values()) r();
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await db?.drop();
});

const deliveryOf = async (key: string, step: string) => {
  const [instance] = await instancesByKey(db, key);
  const row = (await history(db, instance!.id)).find((s) => s.name === step);
  if (!row?.delivery_id) return null;
  const [d] = await db.sql<{ id: string; status: string }[]>`select id, status::text from threefactor.deliveries where id = ${row.delivery_id}`;
  return d ?? null;
};

describe("a step call's settled outcome", () => {
  it('goes into the idle runner’s batch, and to the completer, written at once, while that batch is under way', async () => {
    await emitEvents(db, [
      { type: 'odb.started', aggregateType: 'test', aggregateId: 'a', payload: { key: 'a' } },
      { type: 'odb.started', aggregateType: 'test', aggregateId: 'b', payload: { key: 'b' } },
    ]);
    await waitFor(() => release.has('a') && release.has('b'), 'both first calls in flight', 10_000);
    const a = (await deliveryOf('a', 'first'))!;

    // Hold A's delivery row: the batch that writes A's outcome waits on it, under way.
    let unlock!: () => void;
    const held = new Promise<void>((resolve) => (unlock = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.sql.begin(async (tx) => {
      await tx`select 1 from threefactor.deliveries where id = ${a.id} for update`;
      locked();
      await held;
    });
    try {
      await lockTaken;
      release.get('a')!();
      await waitFor(async () => {
        const [w] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query like '%update threefactor.deliveries as d%'
            and xact_start < query_start`;
        return w!.n === 1;
      }, "the runner's batch (a transaction block) waiting on A's row", 10_000);

      // B's outcome now: the runner is busy, so the completer writes it, at once.
      release.get('b')!();
      await waitFor(async () => (await deliveryOf('b', 'first'))?.status === 'delivered', "B's outcome written while the batch waits", 5_000);
      expect((await deliveryOf('a', 'first'))!.status).toBe('running');
    } finally {
      unlock();
      await holder;
    }

    for (const key of ['a', 'b']) {
      await waitFor(async () => (await instancesByKey(db, key))[0]?.status === 'completed', `${key} completed`, 15_000);
    }
    expect([...rec.countsByStep().values()]).toEqual([1, 1, 1, 1]);
    expect((await deliveryOf('a', 'first'))!.status).toBe('delivered');
  });
});
