/**
 * The database restarts mid-workflow: a PostgreSQL of this file's own is
 * stopped while the durable app's instances are between and inside steps
 * (calls in flight to a slow receiver, sleeps pending), kept down past the
 * sleeps' timers, and started again on the same port. The one dispatcher
 * is not restarted: it reconnects, and every instance finishes, each step
 * once in the history, none invoked after its completion was recorded;
 * instances started after the restart run too (the runner listens again).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/engine/db/client.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { DURABLE_FLOW } from '../fixtures/apps/durable/app.js';
import { dedicatedPostgres, type DedicatedPostgres } from '../support/dedicatedPostgres.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { eventually, waitFor } from '../support/wait.js';
import { byStatus, callsAfterCompletion, dispatcherStarted, instances, Processes, spawnDurableDispatcher, stepCall, steps, TERMINAL } from '../support/workflowRuns.js';

let pg: DedicatedPostgres;
let database: Database;
let receiver: Receiver;
const procs = new Processes();

beforeAll(async () => {
  pg = await dedicatedPostgres();
  database = connect(pg.url, { max: 2 });
  receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', delayMs: 300 }));
}, 60_000);
afterAll(async () => {
  await procs.endAll();
  await receiver?.close();
  await database?.close(1);
  await pg?.destroy();
});

async function startJobs(n: number): Promise<string[]> {
  const jobs = Array.from({ length: n }, () => randomUUID());
  await withEventTransaction(database.db, { session: null, traceContext: null, eventIds: [], causedBy: null }, async ({ emit }) => {
    for (const id of jobs) await emit({ type: 'job.created', aggregateType: 'job', aggregateId: id, payload: { jobId: id } });
  });
  return jobs;
}

describe('a database restart mid-workflow', () => {
  it('every instance finishes after it, each step once, none invoked after its completion', async () => {
    const dispatcher = procs.add(spawnDurableDispatcher(pg.url, { DURABLE_STEP_URL: receiver.url, DURABLE_SLEEP_SEC: '2' }));
    await dispatcher.waitForLog(dispatcherStarted, 30_000);
    // Spread out, so that at any moment some are asleep and some inside a call.
    for (let n = 0; n < 20; n++) {
      await startJobs(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    await waitFor(async () => {
      const now = byStatus(await instances(database.sql, DURABLE_FLOW));
      return (now.sleeping ?? 0) >= 5 && (now.running ?? 0) >= 1;
    }, 'instances both asleep and inside a call', 20_000);
    const before = byStatus(await instances(database.sql, DURABLE_FLOW));
    const inFlight = receiver.requests.length;

    await pg.stop();
    // Down past every sleep's timer (2 s), while calls in flight answer to a dispatcher that cannot record them.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await pg.start();

    const later = await eventually(() => startJobs(5), 'starting instances after the restart', 20_000);
    await waitFor(async () => {
      const rows = await instances(database.sql, DURABLE_FLOW).catch(() => []);
      return rows.length === 25 && rows.every((i) => TERMINAL.includes(i.status));
    }, 'all twenty-five instances terminal', 40_000);

    expect(dispatcher.child.exitCode, 'the dispatcher was not restarted').toBeNull();
    const all = await instances(database.sql, DURABLE_FLOW);
    expect(byStatus(all), `before the stop: ${JSON.stringify(before)}`).toEqual({ completed: 25 });
    const history = await steps(database.sql, DURABLE_FLOW);
    for (const i of all) {
      expect(history.filter((s) => s.instance_id === i.id).map((s) => `${s.name}:${s.status}`)).toEqual(['one:completed', 'pause:completed', 'two:completed']);
    }
    expect(all.filter((i) => later.includes(i.key))).toHaveLength(5);
    // A call in flight at the stop may be made again (same step id); a step recorded complete is never called again.
    const calls = receiver.requests.map((r) => ({ key: String(r.headers['webhook-id']), at: r.at }));
    expect(callsAfterCompletion(calls, history)).toEqual([]);
    const callSteps = new Set(receiver.requests.map((r) => stepCall(r.json).stepId));
    expect(callSteps.size).toBe(50);
    for (const r of receiver.requests) expect(r.headers['webhook-id']).toBe(stepCall(r.json).stepId);
    expect(receiver.requests.length).toBeGreaterThan(inFlight);
  }, 90_000);
});
