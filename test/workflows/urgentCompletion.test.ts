/**
 * A workflow step's settled call is written at once, not after the
 * completer's batching delay: the instance waits on that write to go on (by
 * the runner's next batch, with the advance it allows; or, while a batch is
 * under way, by the completer at once).
 * Made visible with a delay no test would wait for (flushMs one minute): a
 * two-call workflow completes in seconds, while a plain trigger's delivery
 * whose handler has run stays `running` (its outcome still buffered) until
 * the dispatcher's drain writes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { instancesByKey, StepRecorder, twoCallWorkflow } from './support.js';

const twoCalls = twoCallWorkflow('two-calls', 'u.started');

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
const rec = new StepRecorder();
let plainRan = 0;

beforeAll(async () => {
  db = await freshDatabase();
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    flushMs: 60_000,
    triggers: [{ name: 'plain', match: { kind: 'event', types: ['u.plain'] }, target: { kind: 'inProcess', handler: 'plain' } }],
    workflows: [twoCalls],
    inProcessHandlers: { ...rec.handlers(['step']), plain: async () => void plainRan++ },
  });
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await db?.drop();
});

const plainStatus = async () => (await db.sql<{ status: string }[]>`select status from threefactor.deliveries where trigger_name = 'plain'`).map((d) => d.status);

describe("a workflow step's outcome", () => {
  it('is written at once, while a plain outcome waits for the batching delay', async () => {
    await emitEvents(db, [{ type: 'u.started', aggregateType: 'test', aggregateId: 'w', payload: { key: 'w' } }]);
    await waitFor(async () => (await instancesByKey(db, 'w'))[0]?.status === 'completed', 'the two-call instance completed', 15_000);
    expect(rec.forKey('w').map((c) => c.step)).toEqual(['first', 'second']);

    // A plain trigger's outcome, alone in the buffer (an urgent write takes whatever is buffered with it), waits.
    await emitEvents(db, [{ type: 'u.plain', aggregateType: 'test', aggregateId: 'p', payload: {} }]);
    await waitFor(async () => plainRan === 1, 'the plain handler ran', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await plainStatus()).toEqual(['running']);

    // Stopping drains the buffer: nothing is lost, it was only not urgent.
    await dispatcher!.stop({ deadlineMs: 5_000 });
    dispatcher = undefined;
    expect(await plainStatus()).toEqual(['delivered']);
  });
});
