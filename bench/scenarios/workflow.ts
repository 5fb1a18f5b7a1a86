/**
 * `workflow` (issue 15): a 5-step workflow of no-op in-process step
 * handlers, run by the dispatcher's workflow runner, against the same five
 * hops as a plain broker chain of triggers (each no-op handler writes the
 * next hop's event, as a handler's write-back does) in the same run, on the
 * same dispatcher process, one side at a time.
 *
 * 1. Latency: BENCH_WORKFLOW_LATENCY_INSTANCES instances (default 100), one
 *    at a time (the next starts once the last hop of the previous one has
 *    started); step-to-step latency is the time from one hop's handler start
 *    to the next hop's handler start of the same instance (four per
 *    instance), p50 and p99 per round, the median over rounds.
 * 2. Throughput: BENCH_WORKFLOW_INSTANCES instances (default 1,000) started
 *    by one INSERT of their start events; instances completed per second,
 *    from that commit to the moment every instance is completed (the
 *    workflow: status completed; the chain: its last hop's delivery
 *    delivered), polled every 25 ms on both sides.
 *
 * Fair by construction: one dispatcher child per run, restarted per side
 * with production defaults and only that side's definitions (the chain's
 * triggers, or the workflow); the same no-op handlers, retry policies and
 * payloads; before each side the log, deliveries and instances are emptied
 * (TRUNCATE) and checkpointed, and the machine must be quiet; sides alternate
 * which goes first. Audit: every instance completed, every hop ran exactly
 * once, no delivery needed a second attempt.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { DISPATCH_POOL_MAX } from '../../src/engine/commands/dispatch.js';
import { DISPATCHER_DEFAULTS } from '../../src/engine/dispatcher/dispatcher.js';
import { sleep } from '../../src/engine/lib.js';
import { forkTs, type Child } from '../lib/child.js';
import type { BenchContext } from '../lib/context.js';
import { positiveIntegerEnv } from '../lib/deliveryWorkload.js';
import { metric, ratioGoal, type Goal, type Metric } from '../lib/report.js';
import { latencyOverRounds, median, round, summarize } from '../lib/stats.js';
import { benchWorkflow, chainTriggers, HOPS, hopType, LAST_HOP_TRIGGER, WORKFLOW_NAME, WORKFLOW_START, type ChildIn, type ChildOut, type Side } from '../lib/workflow/protocol.js';

export const description = 'a 5-step workflow of no-op handlers against the same five hops as a broker chain of triggers: step-to-step latency, instances/s';

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/workflow');
const POLL_MS = 25;
const TIMEOUT_MS = 300_000;

const intEnv = (name: string, fallback: number): number => (process.env[name] === undefined ? fallback : positiveIntegerEnv(name));

const SIDE_NAME: Record<Side, string> = { workflow: 'workflow runner', chain: 'broker chain of triggers' };

interface RoundResult {
  stepMs: number[];
  firstHopMs: number[];
  instancesPerSec: number;
  burstStepMs: number[];
}

/** Hop starts per instance: n → [hop 1 … hop 5] in ns. */
function byInstance(starts: Float64Array): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (let i = 0; i < starts.length; i += 3) {
    const n = starts[i]!;
    const hop = starts[i + 1]!;
    let hops = map.get(n);
    if (!hops) map.set(n, (hops = []));
    if (hops[hop - 1] !== undefined) throw new Error(`instance ${n}: hop ${hop} ran twice`);
    hops[hop - 1] = starts[i + 2]!;
  }
  return map;
}

function stepIntervals(hops: Map<number, number[]>, from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n < to; n++) {
    const h = hops.get(n);
    if (!h || h.filter((x) => x !== undefined).length !== HOPS) throw new Error(`instance ${n} did not run all ${HOPS} hops`);
    for (let i = 1; i < HOPS; i++) out.push((h[i]! - h[i - 1]!) / 1e6);
  }
  return out;
}

export default async function run(ctx: BenchContext): Promise<Metric[]> {
  const latencyInstances = intEnv('BENCH_WORKFLOW_LATENCY_INSTANCES', 100);
  const burstInstances = intEnv('BENCH_WORKFLOW_INSTANCES', 1_000);
  const sql = postgres(ctx.databaseUrl, { max: 2, onnotice: () => {} });
  ctx.defer(async () => void (await sql.end({ timeout: 5 })));

  const env = {
    DATABASE_URL: ctx.databaseUrl,
    WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
    DISPATCH_POOL_MAX: String(DISPATCH_POOL_MAX),
    NODE_ENV: 'production',
  };
  const child: Child<ChildOut, ChildIn> = forkTs(path.join(LIB, 'dispatcherChild.ts'), { name: 'workflow dispatcher', env, outputFile: path.join(ctx.tmpDir, 'dispatcher.log') });
  ctx.defer(async () => child.kill());
  await child.next('ready');

  const dispatcherConfig = { ...DISPATCHER_DEFAULTS, poolMax: DISPATCH_POOL_MAX, process: 'one child process (bench/lib/workflow/dispatcherChild.ts), restarted per side', logLevel: process.env.BENCH_DISPATCH_LOG_LEVEL ?? 'warn' };
  ctx.configure('workload', { hops: HOPS, latencyInstances, burstInstances, handlers: 'in-process no-ops that note process.hrtime at entry', payload: '{ n }', pollMs: POLL_MS });
  ctx.configure(SIDE_NAME.workflow, { ...dispatcherConfig, workflow: benchWorkflow, start: `one ${WORKFLOW_START} event per instance` });
  ctx.configure(SIDE_NAME.chain, { ...dispatcherConfig, triggers: chainTriggers, start: `one ${hopType(1)} event per instance; hop i's handler writes hop i+1's event with withEventTransaction (cause: its delivery)` });

  const reset = async () => {
    await sql`truncate threefactor.events, threefactor.workflow_instances cascade`;
    // No VACUUM ANALYZE after it: TRUNCATE leaves no dead rows to vacuum, and its only effect would be statistics
    // saying "empty" for the whole side, which no table under load has. Plans made on them (each new connection's,
    // triggers' included) scanned the growing tables, and halved the workflow side's burst in a probe (359–471
    // instances/s on fresh tables, 178–204 after VACUUM ANALYZE); TRUNCATE's own "never analyzed" leaves the planner to estimate from the tables' actual size.
    await sql`checkpoint`.catch(() => {});
  };

  const startType = (side: Side) => (side === 'workflow' ? WORKFLOW_START : hopType(1));
  const emit = (side: Side, from: number, count: number) => sql`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
    select ${startType(side)}, 'wfbench', n::text, jsonb_build_object('n', n)
    from generate_series(${from}::int, ${from + count - 1}::int) as n`;
  const completed = async (side: Side): Promise<number> => {
    const [row] =
      side === 'workflow'
        ? await sql<{ n: number }[]>`select count(*)::int as n from threefactor.workflow_instances where workflow = ${WORKFLOW_NAME} and status = 'completed'`
        : await sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = ${LAST_HOP_TRIGGER} and status = 'delivered'`;
    return row!.n;
  };
  const audit = async (side: Side, expected: number) => {
    const [d] = await sql<{ total: number; retried: number; undelivered: number }[]>`
      select count(*)::int as total, count(*) filter (where attempts > 1)::int as retried, count(*) filter (where status <> 'delivered')::int as undelivered
      from threefactor.deliveries`;
    if (d!.total !== expected * HOPS || d!.retried || d!.undelivered) {
      throw new Error(`${side}: expected ${expected * HOPS} deliveries, all delivered at the first attempt; got ${JSON.stringify(d)}`);
    }
    if (side === 'workflow') {
      const [w] = await sql<{ n: number; done: number }[]>`select count(*)::int as n, count(*) filter (where status = 'completed')::int as done from threefactor.workflow_instances`;
      if (w!.n !== expected || w!.done !== expected) throw new Error(`workflow: expected ${expected} completed instances; got ${JSON.stringify(w)}`);
    }
  };

  async function measure(side: Side): Promise<RoundResult> {
    await reset();
    // The chain is the broker alone: no current definition, so the events trigger's start probe finds nothing to join
    // (the workflow side's dispatcher makes its definition current again at start).
    if (side === 'chain') await sql`update threefactor.workflow_definitions set current = false where current`;
    const quiet = await ctx.quiet();
    child.send({ type: 'start', side, doneUpTo: latencyInstances });
    await child.next('started');
    // Latency: one instance at a time.
    const firstHopMs: number[] = [];
    const committedAt = new Map<number, number>();
    for (let n = 1; n <= latencyInstances; n++) {
      const done = child.next('done');
      await emit(side, n, 1);
      committedAt.set(n, Number(process.hrtime.bigint()));
      const finished = await done;
      if (finished.n !== n) throw new Error(`${side}: instance ${finished.n} finished while waiting for ${n}`);
    }
    const latencyHops = byInstance((await (child.send({ type: 'collect' }), child.next('collected'))).starts);
    const stepMs = stepIntervals(latencyHops, 1, latencyInstances + 1);
    for (const [n, at] of committedAt) firstHopMs.push((latencyHops.get(n)![0]! - at) / 1e6);

    // Throughput: a burst of instances, in one statement.
    const from = latencyInstances + 1;
    const t0 = performance.now();
    await emit(side, from, burstInstances);
    const deadline = Date.now() + TIMEOUT_MS;
    while ((await completed(side)) < latencyInstances + burstInstances) {
      if (Date.now() > deadline) throw new Error(`${side}: the burst did not complete in ${TIMEOUT_MS / 1000} s`);
      await sleep(POLL_MS);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const burstHops = byInstance((await (child.send({ type: 'collect' }), child.next('collected'))).starts);
    const burstStepMs = stepIntervals(burstHops, from, from + burstInstances);
    await audit(side, latencyInstances + burstInstances);
    ctx.progress(`${side}: step-to-step p50 ${round(summarize(stepMs).p50, 2)} ms, ${round(burstInstances / elapsedS, 1)} instances/s (background ${round(quiet.backgroundCores, 2)} cores)`);
    return { stepMs, firstHopMs, instancesPerSec: burstInstances / elapsedS, burstStepMs };
  }

  const results: Record<Side, RoundResult[]> = { workflow: [], chain: [] };
  for (let r = 0; r < ctx.rounds; r++) {
    const order: Side[] = r % 2 === 0 ? ['workflow', 'chain'] : ['chain', 'workflow'];
    for (const side of order) {
      ctx.progress(`round ${r + 1}/${ctx.rounds}: ${SIDE_NAME[side]}`);
      results[side].push(await measure(side));
    }
  }
  child.send({ type: 'stop' });
  await child.next('stopped').catch(() => undefined);

  const latency = (side: Side) => latencyOverRounds(results[side].map((x) => x.stepMs));
  const throughput = (side: Side) => median(results[side].map((x) => x.instancesPerSec));
  const ours = latency('workflow');
  const base = latency('chain');
  const perRound = (side: Side) =>
    results[side].map((x) => ({
      step: summarize(x.stepMs),
      firstHop: summarize(x.firstHopMs),
      instancesPerSec: round(x.instancesPerSec, 1),
      burstStep: summarize(x.burstStepMs),
    }));
  ctx.note('perRound', { workflow: perRound('workflow'), chain: perRound('chain') });
  ctx.note('goals', 'issue 15: step-to-step latency at most 1.5x the broker chain, and the same throughput (parity: ratio >= 1/1.1)');
  const sameThroughput = (m: Metric): Goal => ({ bar: 'ratio >= 0.909 (parity)', met: m.ratio >= 1 / 1.1 });

  return [
    metric('step-to-step p50', ours.p50, 'ms', { name: 'broker chain p50', value: base.p50 }, { goal: ratioGoal(1.5) }),
    metric('step-to-step p99', ours.p99, 'ms', { name: 'broker chain p99', value: base.p99 }, { goal: ratioGoal(1.5) }),
    metric('instances completed', throughput('workflow'), 'instances/s', { name: 'broker chain instances', value: throughput('chain') }, { goal: sameThroughput }),
  ];
}
