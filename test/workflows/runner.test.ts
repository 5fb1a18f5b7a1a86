/**
 * The workflow engine end to end in one process (real PostgreSQL, the
 * dispatcher with in-process step handlers): an event starts an instance in
 * its own transaction; call → call → wait → sleep → completed; a dead call,
 * a failOn event and a timeout each compensate in reverse (the start's
 * compensation last); a wait's timeout fails it, or with onTimeout calls that
 * once; retryWorkflow resumes a failed instance at its failed step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { retryWorkflow } from '../../src/engine/workflows/admin/retryWorkflow.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { dead, history, instancesByKey, StepRecorder } from './support.js';

const HANDLERS = ['a', 'b', 'undoA', 'undoB', 'refund', 'poke', 'flaky'] as const;
const inProcess = (handler: string) => ({ target: { kind: 'inProcess' as const, handler }, retry: { numRetries: 0, timeoutSec: 5 } });

const flow: WorkflowDefinition = {
  name: 'flow',
  version: 1,
  start: { types: ['t.started'], compensate: 'refund' },
  steps: [
    { name: 'a', kind: 'call', handler: 'a', compensate: 'undoA' },
    { name: 'b', kind: 'call', handler: 'b', compensate: 'undoB' },
    { name: 'go', kind: 'wait', for: { types: ['t.go'] }, failOn: { types: ['t.stop'] }, timeoutSec: 60 },
    { name: 'nap', kind: 'sleep', seconds: 0.3 },
  ],
  handlers: { a: inProcess('a'), b: inProcess('b'), undoA: inProcess('undoA'), undoB: inProcess('undoB'), refund: inProcess('refund') },
};
const hold: WorkflowDefinition = {
  name: 'hold',
  version: 1,
  start: { types: ['h.started'] },
  steps: [{ name: 'answer', kind: 'wait', for: { types: ['h.answer'] }, timeoutSec: 0.5 }],
  handlers: {},
};
const nudge: WorkflowDefinition = {
  name: 'nudge',
  version: 1,
  start: { types: ['n.started'], key: { payloadField: 'key' } },
  steps: [
    { name: 'answer', kind: 'wait', for: { types: ['n.answer'], condition: { payload: { ok: { _eq: true } } } }, timeoutSec: 0.4, onTimeout: 'poke' },
    { name: 'after', kind: 'call', handler: 'a' },
  ],
  handlers: { poke: inProcess('poke'), a: inProcess('a') },
};
const fragile: WorkflowDefinition = {
  name: 'fragile',
  version: 1,
  start: { types: ['f.started'] },
  steps: [
    { name: 'first', kind: 'call', handler: 'a' },
    { name: 'second', kind: 'call', handler: 'flaky' },
  ],
  handlers: { a: inProcess('a'), flaky: inProcess('flaky') },
};

let db: TestDatabase;
let dispatcher: Dispatcher;
const rec = new StepRecorder();

beforeAll(async () => {
  db = await freshDatabase();
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    workflows: [flow, hold, nudge, fragile],
    inProcessHandlers: rec.handlers(HANDLERS),
  });
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await db?.drop();
});

const emit = (type: string, key: string, payload: Record<string, unknown> = {}) =>
  emitEvents(db, [{ type, aggregateType: 'test', aggregateId: key, payload: { key, ...payload } }]);

async function settled(key: string, status: string) {
  await waitFor(async () => (await instancesByKey(db, key))[0]?.status === status, `${key} ${status}`, 15_000);
  return (await instancesByKey(db, key))[0]!;
}

describe('workflows in one process', () => {
  it('starts in the event transaction: seen inside it, and a rolled-back event starts nothing', async () => {
    let inside = 0;
    await expect(
      withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [], causedBy: null }, async ({ emit: e, tx }) => {
        await e({ type: 't.started', aggregateType: 'test', aggregateId: 'rolled-back', payload: { key: 'rolled-back' } });
        const rows = (await tx.execute(`select count(*)::int as n from threefactor.workflow_instances where key = 'rolled-back'`)) as unknown as Array<{ n: number }>;
        inside = rows[0]!.n;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(inside).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await instancesByKey(db, 'rolled-back')).toEqual([]);
    expect(rec.forKey('rolled-back')).toEqual([]);
  });

  it('call → call → wait → sleep → completed, each step once, results passed on, the history recorded', async () => {
    const [startId] = await emit('t.started', 'happy');
    await waitFor(async () => (await instancesByKey(db, 'happy'))[0]?.status === 'waiting', 'waiting');
    const [goId] = await emit('t.go', 'happy');
    const done = await settled('happy', 'completed');
    expect(done.started_by_event).toBe(startId);
    expect(done.results).toMatchObject({ a: { by: 'a' }, b: { by: 'b' }, go: { eventId: goId, type: 't.go' }, nap: { until: expect.any(String) } });
    const calls = rec.forKey('happy');
    expect(calls.map((c) => c.handler)).toEqual(['a', 'b']);
    // The step id is the delivered event's id (the idempotency key), and the second step saw the first's result.
    for (const c of calls) expect(c.deliveryEventId).toBe(c.stepId);
    expect(calls[1]!.results).toEqual({ a: { by: 'a' } });
    const steps = await history(db, done.id);
    expect(steps.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['a', 'call', 'completed'],
      ['b', 'call', 'completed'],
      ['go', 'wait', 'completed'],
      ['nap', 'sleep', 'completed'],
    ]);
    expect(steps[0]!.id).toBe(calls[0]!.stepId);
    expect(await db.sql`select 1 from threefactor.workflow_waits where instance_id = ${done.id}`).toHaveLength(0);
    const transitions = await db.sql<{ type: string }[]>`select type from threefactor.events where aggregate_id = ${done.id} and type not like '%.step' order by seq`;
    expect(transitions.map((t) => t.type)).toEqual([
      'threefactor.workflow.started',
      'threefactor.workflow.waiting',
      'threefactor.workflow.sleeping',
      'threefactor.workflow.completed',
    ]);
    // The step events are caused: the first by the start event, the second by the first step's event.
    const causes = await db.sql<{ id: string; caused_by_event: string }[]>`select id, caused_by_event from threefactor.events where type = 'threefactor.workflow.step' and aggregate_id = ${done.id} order by seq`;
    expect(causes.map((c) => c.caused_by_event)).toEqual([startId, calls[0]!.stepId]);
  });

  it('a dead call compensates the completed steps in reverse, the start last, and ends compensated', async () => {
    rec.on('b', (c) => {
      if (c.key === 'dead-b') throw dead('b refuses');
      return { by: 'b' };
    });
    await emit('t.started', 'dead-b');
    const done = await settled('dead-b', 'compensated');
    expect(rec.forKey('dead-b').map((c) => `${c.handler}:${c.phase}`)).toEqual(['a:forward', 'b:forward', 'undoA:compensate', 'refund:compensate']);
    expect(done.failure).toEqual({ step: 'b', reason: 'dead' });
    const steps = await history(db, done.id);
    expect(steps.map((s) => `${s.name}/${s.kind}/${s.status}`)).toEqual(['a/call/completed', 'b/call/failed', 'a/compensate/completed', '$start/compensate/completed']);
  });

  it('a failOn event fails the wait for good: undoB, undoA, refund', async () => {
    await emit('t.started', 'stop');
    await waitFor(async () => (await instancesByKey(db, 'stop'))[0]?.status === 'waiting', 'waiting');
    const [stopId] = await emit('t.stop', 'stop');
    const done = await settled('stop', 'compensated');
    expect(done.failure).toEqual({ step: 'go', reason: 't.stop', eventId: stopId });
    expect(rec.forKey('stop').map((c) => c.handler)).toEqual(['a', 'b', 'undoB', 'undoA', 'refund']);
    // The compensations were told why.
    expect(rec.forKey('stop').filter((c) => c.phase === 'compensate')).toHaveLength(3);
  });

  it('an awaited event written before the wait begins still ends it: by a call step\'s own write-back, or in the start\'s transaction', async () => {
    // b's handler writes t.go itself, while its call is in flight: the wait after it is registered ahead.
    rec.on('b', async (c) => {
      if (c.key === 'early') await emit('t.go', 'early');
      return { by: 'b' };
    });
    await emit('t.started', 'early');
    const early = await settled('early', 'completed');
    expect(early.results).toMatchObject({ go: { type: 't.go' } });
    // The start and its answer in one transaction: the first wait is registered by the start itself.
    await emitEvents(db, [
      { type: 'n.started', aggregateType: 'test', aggregateId: 'same-tx', payload: { key: 'same-tx' } },
      { type: 'n.answer', aggregateType: 'test', aggregateId: 'same-tx', payload: { key: 'same-tx', ok: true } },
    ]);
    await settled('same-tx', 'completed');
    expect(rec.forKey('same-tx').map((c) => c.handler)).toEqual(['a']);
  });

  it('a wait timeout without onTimeout fails the instance (nothing to compensate: it stays at the step)', async () => {
    await emit('h.started', 'silent');
    const done = await settled('silent', 'failed');
    expect(done).toMatchObject({ step_index: 0, phase: 'forward', failure: { step: 'answer', reason: 'timeout' } });
    expect((await history(db, done.id)).map((s) => s.status)).toEqual(['timed_out']);
  });

  it('a wait timeout with onTimeout calls it once, keeps waiting, and the awaited event (its condition holding) goes on', async () => {
    await emit('n.started', 'nudged');
    await waitFor(() => rec.forKey('nudged').some((c) => c.handler === 'poke'), 'poke called');
    await new Promise((r) => setTimeout(r, 900));
    expect(rec.forKey('nudged').filter((c) => c.handler === 'poke')).toHaveLength(1);
    expect((await instancesByKey(db, 'nudged'))[0]!.status).toBe('waiting');
    // Its condition does not hold: still waiting.
    await emit('n.answer', 'nudged', { ok: false });
    await new Promise((r) => setTimeout(r, 400));
    expect((await instancesByKey(db, 'nudged'))[0]!.status).toBe('waiting');
    await emit('n.answer', 'nudged', { ok: true });
    await settled('nudged', 'completed');
    expect(rec.forKey('nudged').map((c) => c.handler)).toEqual(['poke', 'a']);
  });

  it('retryWorkflow runs a failed instance again from its failed step (a new history row), and refuses anything else', async () => {
    let broken = true;
    rec.on('flaky', () => {
      if (broken) throw dead('not yet');
      return { fixed: true };
    });
    await emit('f.started', 'retry');
    const failed = await settled('retry', 'failed');
    expect(failed).toMatchObject({ step_index: 1, failure: { step: 'second', reason: 'dead' } });
    broken = false;
    expect(await retryWorkflow(db, failed.id)).toMatchObject({ kind: 'retried' });
    const done = await settled('retry', 'completed');
    expect(done.results).toMatchObject({ first: { by: 'a' }, second: { fixed: true } });
    const steps = await history(db, done.id);
    expect(steps.map((s) => `${s.name}#${s.attempt}/${s.status}`)).toEqual(['first#1/completed', 'second#1/failed', 'second#2/completed']);
    // first ran once: a completed step is never invoked again.
    expect(rec.forKey('retry').map((c) => c.handler)).toEqual(['a', 'flaky', 'flaky']);
    expect(await retryWorkflow(db, done.id)).toEqual({ kind: 'refused', status: 'completed' });
    for (const n of rec.countsByStep().values()) expect(n).toBe(1);
  });
});
