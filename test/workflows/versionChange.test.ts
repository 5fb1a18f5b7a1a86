/**
 * A definition changed while instances run: the durable app's workflow at
 * version 1 (call `one`, sleep, call `two`) is replaced by a deploy of
 * version 2 (call `one-v2`, call `three`): the v1 dispatcher stops (SIGTERM)
 * while its instances sleep, more instances start while no dispatcher is up
 * (v1 is still current, so they pin v1 without a step run), and a dispatcher
 * declaring only v2 takes over. Every v1 instance finishes on v1, its steps
 * and its handlers'; instances started afterwards run v2.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURABLE_FLOW } from '../fixtures/apps/durable/app.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { byStatus, dispatcherStarted, instances, Processes, spawnDurableDispatcher, stepCall, steps, TERMINAL, type InstanceRow } from '../support/workflowRuns.js';

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

const env = (version: number) => ({ DURABLE_STEP_URL: receiver.url, DURABLE_VERSION: String(version), DURABLE_SLEEP_SEC: '3' });

async function startJobs(n: number): Promise<string[]> {
  const jobs = Array.from({ length: n }, () => randomUUID());
  await emitEvents(db, jobs.map((id) => ({ type: 'job.created', aggregateType: 'job', aggregateId: id, payload: { jobId: id } })));
  return jobs;
}

/** Filled by the first test, read by the second. */
const run = { sleeping: [] as string[], pinnedWhileDown: [] as string[], afterDeploy: [] as string[], switchedAt: 0, final: [] as InstanceRow[] };
const callsOf = (instanceId: string): ReceivedRequest[] => receiver.requests.filter((r) => stepCall(r.json).instanceId === instanceId);

describe('a definition changed while instances run', () => {
  it('instances started on v1 finish on v1 after a dispatcher with v2 starts; new ones run v2', async () => {
    const v1 = procs.add(spawnDurableDispatcher(db.url, env(1)));
    await v1.waitForLog(dispatcherStarted, 30_000);
    run.sleeping = await startJobs(20);
    await waitFor(async () => (await instances(db.sql, DURABLE_FLOW)).filter((i) => i.status === 'sleeping').length === 20, 'twenty v1 instances asleep', 20_000);

    // The deploy: v1's process drains and exits; instances started meanwhile pin the version still current, v1.
    v1.child.kill('SIGTERM');
    expect((await v1.exited).code).toBe(0);
    run.pinnedWhileDown = await startJobs(10);
    const pinned = (await instances(db.sql, DURABLE_FLOW)).filter((i) => run.pinnedWhileDown.includes(i.key));
    expect(pinned.map((i) => i.version)).toEqual(Array(10).fill(1));

    run.switchedAt = Date.now();
    const v2 = procs.add(spawnDurableDispatcher(db.url, env(2)));
    await v2.waitForLog(dispatcherStarted, 30_000);
    const versions = await db.sql<{ version: number; current: boolean }[]>`
      select version, current from threefactor.workflow_definitions where name = ${DURABLE_FLOW} order by version`;
    expect(versions).toEqual([{ version: 1, current: false }, { version: 2, current: true }]);
    run.afterDeploy = await startJobs(10);

    await waitFor(async () => (await instances(db.sql, DURABLE_FLOW)).every((i) => TERMINAL.includes(i.status)), 'all forty instances terminal', 30_000);
    run.final = await instances(db.sql, DURABLE_FLOW);
    expect(run.final).toHaveLength(40);
    expect(byStatus(run.final)).toEqual({ completed: 40 });

    const history = await steps(db.sql, DURABLE_FLOW);
    const stepNames = (instanceId: string) => history.filter((s) => s.instance_id === instanceId).map((s) => `${s.name}:${s.status}`);
    const byKey = new Map(run.final.map((i) => [i.key, i]));
    for (const key of [...run.sleeping, ...run.pinnedWhileDown]) {
      const i = byKey.get(key)!;
      expect(i.version).toBe(1);
      expect(stepNames(i.id)).toEqual(['one:completed', 'pause:completed', 'two:completed']);
      // Every call it made said v1, and the step of v1 it was.
      expect(callsOf(i.id).map((r) => [stepCall(r.json).version, stepCall(r.json).step])).toEqual([
        [1, 'one'],
        [1, 'two'],
      ]);
    }
    for (const key of run.afterDeploy) {
      const i = byKey.get(key)!;
      expect(i.version).toBe(2);
      expect(stepNames(i.id)).toEqual(['one-v2:completed', 'three:completed']);
      expect(callsOf(i.id).map((r) => [r.path, stepCall(r.json).version, stepCall(r.json).step])).toEqual([
        ['/v2/one', 2, 'one-v2'],
        ['/v2/three', 2, 'three'],
      ]);
    }
    // The sleepers' second call, v1's `two` (a handler v2 no longer declares), came from the v2 process.
    for (const key of run.sleeping) {
      const [one, two] = callsOf(byKey.get(key)!.id);
      expect(one!.path).toBe('/v1/one');
      expect(one!.at).toBeLessThan(run.switchedAt);
      expect(two!.path).toBe('/v1/two');
      expect(two!.at).toBeGreaterThan(run.switchedAt);
    }
  }, 60_000);

  // A handler's trigger is per version (workflow.<workflow>.v<version>.<handler>): the sync of v2 leaves v1's as v1 set
  // them.
  it("a v1 instance's call reaches v1's target for that handler, even after v2 changed that handler's target", () => {
    expect(run.final, 'the first test ran').toHaveLength(40);
    // `one` is a handler key both versions declare, with different URLs (/v1/one, /v2/one). The instances pinned on v1
    // while no process was up call it only after v2's dispatcher synced its triggers.
    const byKey = new Map(run.final.map((i) => [i.key, i]));
    const paths = run.pinnedWhileDown.map((key) => callsOf(byKey.get(key)!.id).map((r) => r.path));
    expect(paths).toEqual(Array(10).fill(['/v1/one', '/v1/two']));
  });
});
