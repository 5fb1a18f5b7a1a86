/**
 * A timer that comes due while no process is up runs when one starts: the
 * durable app's instances wait (3 s timeout) or sleep (3 s), every
 * dispatcher is stopped, the timers pass with nobody to fire them, and a
 * dispatcher started afterwards fires them all at once: the sleepers go on to
 * their next call and complete, the waits time out, fail for good and
 * compensate. And an event a wait accepts, written while nothing runs,
 * before the instance even reached its wait, is not lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURABLE_FLOW } from '../fixtures/apps/durable/app.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { byStatus, dispatcherStarted, instances, Processes, spawnDurableDispatcher, stepCall, steps, TERMINAL } from '../support/workflowRuns.js';

let db: TestDatabase;
let receiver: Receiver;
const procs = new Processes();

beforeAll(async () => {
  db = await freshDatabase();
  receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }));
});
afterAll(async () => {
  await procs.endAll();
  await receiver?.close();
  await db?.drop();
});

const env = () => ({ DURABLE_STEP_URL: receiver.url, DURABLE_WAIT_SEC: '3', DURABLE_SLEEP_SEC: '3' });
const paths = (prefix: string) => receiver.requests.filter((r) => r.path.startsWith(prefix));

describe('a timer that fires while no process is up', () => {
  it('runs when a dispatcher starts: due sleeps go on, due wait timeouts fail and compensate', async () => {
    const first = procs.add(spawnDurableDispatcher(db.url, env()));
    await first.waitForLog(dispatcherStarted, 30_000);
    const jobs = Array.from({ length: 10 }, () => randomUUID());
    await emitEvents(db, jobs.map((id) => ({ type: 'job.created', aggregateType: 'job', aggregateId: id, payload: { jobId: id } })));
    await waitFor(async () => (await instances(db.sql, DURABLE_FLOW)).filter((i) => i.status === 'waiting' && i.wake_at).length === 10, 'ten instances waiting', 15_000);
    // Half are released: they call `one`, then sleep 3 s. The other half stay waiting for their 3 s timeout.
    const released = jobs.slice(0, 5);
    await emitEvents(db, released.map((id) => ({ type: 'job.released', aggregateType: 'job', aggregateId: id, payload: {} })));
    await waitFor(async () => (await instances(db.sql, DURABLE_FLOW)).filter((i) => i.status === 'sleeping').length === 5, 'five instances asleep', 15_000);
    expect(paths('/v1/one')).toHaveLength(5);

    // Every process stopped (a crash: nothing gets to run on the way out) before any timer is due.
    const before = await instances(db.sql, DURABLE_FLOW);
    const dueAt = Math.max(...before.map((i) => i.wake_at!));
    expect(Math.min(...before.map((i) => i.wake_at!))).toBeGreaterThan(Date.now());
    await procs.kill(first);
    expect(procs.running()).toHaveLength(0);
    const requestsWhileDown = receiver.requests.length;

    await waitFor(async () => {
      const [row] = await db.sql<{ past: boolean }[]>`select now() > ${new Date(dueAt + 500)} as past`;
      return row!.past;
    }, 'every timer to be past due', 10_000);
    // Nothing fired them: the instances are as they were, and no step was called.
    expect(byStatus(await instances(db.sql, DURABLE_FLOW))).toEqual({ sleeping: 5, waiting: 5 });
    expect(receiver.requests.length).toBe(requestsWhileDown);

    const startedAt = Date.now();
    const second = procs.add(spawnDurableDispatcher(db.url, env()));
    await second.waitForLog(dispatcherStarted, 30_000);
    await waitFor(async () => (await instances(db.sql, DURABLE_FLOW)).every((i) => TERMINAL.includes(i.status)), 'every instance terminal', 20_000);

    const after = await instances(db.sql, DURABLE_FLOW);
    const statusOf = new Map(after.map((i) => [i.key, i.status]));
    for (const id of released) expect(statusOf.get(id)).toBe('completed');
    for (const id of jobs.slice(5)) expect(statusOf.get(id)).toBe('compensated');
    for (const i of after.filter((i) => i.status === 'compensated')) expect(i.failure).toMatchObject({ step: 'await-release', reason: 'timeout' });
    // The fired timers' work happened after the restart, once each.
    const two = paths('/v1/two');
    const undo = paths('/v1/undo');
    expect(two).toHaveLength(5);
    expect(undo).toHaveLength(5);
    for (const r of [...two, ...undo]) expect(r.at).toBeGreaterThanOrEqual(startedAt);
    expect(new Set(two.map((r) => stepCall(r.json).instanceId)).size).toBe(5);
    const history = await steps(db.sql, DURABLE_FLOW);
    expect(history.filter((s) => s.kind === 'sleep' && s.status === 'completed')).toHaveLength(5);
    expect(history.filter((s) => s.kind === 'wait' && s.status === 'timed_out')).toHaveLength(5);
  }, 60_000);

  // The wait is registered by the runner's batch, after the start: an event that lands in between (here: while no
  // process is up; in production: while the runners lag) must still count.
  it('an event the wait accepts, written while no process is up before the instance reached the wait, is not lost', async () => {
    for (const p of procs.running()) await procs.kill(p);
    const job = randomUUID();
    await emitEvents(db, [{ type: 'job.created', aggregateType: 'job', aggregateId: job, payload: { jobId: job } }]);
    await emitEvents(db, [{ type: 'job.released', aggregateType: 'job', aggregateId: job, payload: {} }]);
    const proc = procs.add(spawnDurableDispatcher(db.url, env()));
    await proc.waitForLog(dispatcherStarted, 30_000);
    const mine = async () => (await instances(db.sql, DURABLE_FLOW)).find((i) => i.key === job);
    await waitFor(async () => TERMINAL.includes((await mine())?.status ?? ''), 'the instance terminal', 20_000);
    expect((await mine())!.status).toBe('completed');
  }, 40_000);
});
