/**
 * Runners sharing the work and stopping under load: two dispatchers (each
 * with its workflow runner) on one database advance 200 instances of a
 * three-call workflow, and no step is executed twice (handler calls counted
 * by step id); a runner stopped by a deadline mid-load stops by it, leaves
 * nothing half-advanced, and another process finishes the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { StepRecorder } from './support.js';

const inProcess = (handler: string) => ({ target: { kind: 'inProcess' as const, handler }, retry: { numRetries: 3, intervalSec: 0, timeoutSec: 5 } });
const chain: WorkflowDefinition = {
  name: 'chain',
  version: 1,
  start: { types: ['c.go'] },
  steps: [
    { name: 's1', kind: 'call', handler: 'h1' },
    { name: 's2', kind: 'call', handler: 'h2' },
    { name: 's3', kind: 'call', handler: 'h3' },
  ],
  handlers: { h1: inProcess('h1'), h2: inProcess('h2'), h3: inProcess('h3') },
};

let db: TestDatabase;
const dispatchers: Dispatcher[] = [];
const rec = new StepRecorder();
/** Instances claimed per runner (by dispatcher index). */
const claimedBy: number[] = [];

async function dispatcher(): Promise<Dispatcher> {
  const index = claimedBy.push(0) - 1;
  const d = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 250,
    workflows: [chain],
    inProcessHandlers: rec.handlers(['h1', 'h2', 'h3']),
    onWorkflowBatch: (b) => (claimedBy[index]! += b.claimed),
  });
  dispatchers.push(d);
  return d;
}

beforeAll(async () => {
  db = await freshDatabase({ max: 20 });
});
afterAll(async () => {
  await Promise.allSettled(dispatchers.map((d) => d.stop({ deadlineMs: 2_000 })));
  await db?.drop();
});

async function start(prefix: string, count: number): Promise<void> {
  await db.sql`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
    select 'c.go', 'test', ${prefix} || n, jsonb_build_object('key', ${prefix} || n) from generate_series(1, ${count}) as n`;
}

async function statuses(prefix: string): Promise<Record<string, number>> {
  const rows = await db.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from threefactor.workflow_instances where key like ${prefix + '%'} group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('workflow runners', () => {
  it('two runners share 200 instances and execute every step exactly once', async () => {
    const [a, b] = [await dispatcher(), await dispatcher()];
    await start('two-', 200);
    await waitFor(async () => (await statuses('two-')).completed === 200, '200 completed', 45_000);
    const calls = rec.calls.filter((c) => c.key.startsWith('two-'));
    expect(calls).toHaveLength(600);
    const perStep = rec.countsByStep();
    for (const c of calls) expect(perStep.get(c.stepId)).toBe(1);
    // Per instance: h1, h2, h3 once each, in order.
    const byInstance = new Map<string, string[]>();
    for (const c of calls) byInstance.set(c.instanceId, [...(byInstance.get(c.instanceId) ?? []), c.handler]);
    expect(byInstance.size).toBe(200);
    for (const seq of byInstance.values()) expect(seq).toEqual(['h1', 'h2', 'h3']);
    // Both runners did part of the work.
    expect(claimedBy[0]).toBeGreaterThan(0);
    expect(claimedBy[1]).toBeGreaterThan(0);
    const [rows] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.workflow_steps where status = 'completed' and instance_id in (select id from threefactor.workflow_instances where key like 'two-%')`;
    expect(rows!.n).toBe(600);
    await Promise.all([a.stop({ deadlineMs: 2_000 }), b.stop({ deadlineMs: 2_000 })]);
    dispatchers.length = 0;
  }, 60_000);

  it('stop(deadline) under load returns by the deadline, half-advances nothing, and another process finishes', async () => {
    rec.on('h2', async () => {
      await new Promise((r) => setTimeout(r, 20));
      return { slow: true };
    });
    const first = await dispatcher();
    await start('load-', 150);
    await waitFor(async () => ((await statuses('load-')).completed ?? 0) >= 10, 'some completed', 30_000);
    const t0 = Date.now();
    await first.stop({ deadlineMs: 1_500 });
    expect(Date.now() - t0).toBeLessThan(1_500 + 400);
    dispatchers.length = 0;
    const mid = await statuses('load-');
    expect(mid.completed ?? 0).toBeLessThan(150);
    // Nothing half-advanced: every unfinished instance's current step is a running row of its own.
    const [torn] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from threefactor.workflow_instances as i
      where i.key like 'load-%' and i.finished_at is null and i.current_step is not null
        and not exists (select 1 from threefactor.workflow_steps s where s.id = i.current_step and s.instance_id = i.id and s.status = 'running')`;
    expect(torn!.n).toBe(0);
    await dispatcher();
    await waitFor(async () => (await statuses('load-')).completed === 150, '150 completed', 45_000);
    // A completed step is never invoked again: no step row completed twice, three completed rows per instance.
    const [counts] = await db.sql<{ rows: number; distinct_steps: number }[]>`
      select count(*)::int as rows, count(distinct (instance_id, step_index))::int as distinct_steps
      from threefactor.workflow_steps where status = 'completed' and instance_id in (select id from threefactor.workflow_instances where key like 'load-%')`;
    expect(counts).toEqual({ rows: 450, distinct_steps: 450 });
  }, 60_000);
});
