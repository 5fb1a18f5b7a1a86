/**
 * `delivery`: the dispatcher against graphile-worker 0.17.3 doing the same
 * work on the same database in the same run, graphile-worker measured twice:
 * unbatched (its defaults) and batched (the local queue and batched
 * completion of its performance page; GRAPHILE_VARIANTS). Each queue runs in
 * its own child process (bench/lib/dispatcherChild.ts,
 * bench/lib/graphileChild.ts), and only one side runs at a time. ratio =
 * ours / graphile-worker.
 *
 * Fair by construction: the same concurrency on every side (the
 * dispatcher's default, DISPATCHER_DEFAULTS.concurrency); each side's pool
 * warmed (every connection opened and used) just before each timed window;
 * the same log level for both queues (BENCH_QUEUE_LOG_LEVEL, default warn: no line
 * per job on either side, as graphile-worker's perf test runs); our pool the
 * size `dispatch` gives it, graphile-worker's the size its perf test gives
 * it (concurrency + 1). Each side's full configuration is in the record's
 * stamp.
 *
 * 1. Throughput: a backlog of events (ours: bulk INSERT into `events`, the
 *    routing trigger creates the deliveries; graphile-worker: `add_jobs` in
 *    bulk) written while no consumer runs, then drained to a no-op. Timed
 *    from the consumer's start to the last completion recorded in the
 *    database (the child polls for unfinished rows once every job has run).
 * 2. Latency: one event committed at a time (ours: `withEventTransaction`;
 *    graphile-worker: `add_job`), from the commit's acknowledgement to the
 *    handler's first line, process.hrtime (CLOCK_MONOTONIC, one clock for
 *    every process on the machine).
 * 3. Webhooks: a backlog drained by POSTs to a keep-alive no-op receiver in
 *    a third process; graphile-worker's task makes the same attempt with our
 *    code (same body, signature, headers, node:http POST on a keep-alive
 *    agent), at the same concurrency.
 *
 * 4. Isolation (measureIsolation below, ours only): a steady no-op webhook
 *    trigger's p99 commit → receiver while another trigger's handler hangs,
 *    against the same trigger's p99 with nothing hanging.
 *
 * 5. Trees (measureTrees below, ours only): a drain while causal trees of
 *    events in its backlog are watched live, against the same drain unwatched.
 *
 * BENCH_ONLY=drain,latency,webhooks,isolation,trees (any of them) runs only those
 * parts, for a quick check.
 *
 * Sides rotate which goes first from round to round; before each side the
 * tables of both queues are emptied and vacuumed, and the machine must be
 * quiet. Each side's work is audited (every job done once, nothing failed).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMigrations as graphileMigrations } from 'graphile-worker';
import { connect } from '../../src/engine/db/client.js';
import { DISPATCH_POOL_MAX } from '../../src/engine/commands/dispatch.js';
import { DISPATCHER_DEFAULTS } from '../../src/engine/dispatcher/dispatcher.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { forkTs, type Child } from '../lib/child.js';
import type { BenchContext } from '../lib/context.js';
import { sleep } from '../../src/engine/lib.js';
import {
  benchTriggers,
  EVENT_TYPE,
  GRAPHILE_VARIANTS,
  GRAPHILE_VERSION,
  HUNG_TIMEOUT_SEC,
  ISOLATION,
  jobPayload,
  orderPayload,
  SESSION,
  TASK,
  TRACE,
  type DeliveryJob,
  type GraphileVariant,
  type QueueChildIn,
  type QueueChildOut,
} from '../lib/deliveryWorkload.js';
import type { ReceiverIn, ReceiverOut } from '../lib/receiverChild.js';
import { startApiProcess } from '../lib/apiProcess.js';
import type { WatchersIn, WatchersOut } from '../lib/trees/protocol.js';
import { mintToken } from '../../src/engine/server/auth.js';
import type { Sql } from '../../src/engine/db/client.js';
import { serverCpu } from '../lib/serverCpu.js';
import { metric, type Metric } from '../lib/report.js';
import { latencyOverRounds, median, round, summarize, type RoundsLatency } from '../lib/stats.js';

export const description = 'dispatcher vs graphile-worker: drain 50k no-op events, commit→handler latency, webhooks to a keep-alive receiver; a hung trigger beside a steady one';

const LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib');
const positive = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};
const BACKLOG = positive('BENCH_DELIVERY_BACKLOG', 50_000);
const HTTP_BACKLOG = positive('BENCH_DELIVERY_HTTP_BACKLOG', 20_000);
const LATENCY_SAMPLES = positive('BENCH_DELIVERY_LATENCY_SAMPLES', 1_000);
const LATENCY_WARMUP = 50;
const WARMUP_BACKLOG = 5_000;
const CHUNK = 5_000;
const ISOLATION_RATE = positive('BENCH_ISOLATION_RATE', 20);
const ISOLATION_HUNG = positive('BENCH_ISOLATION_HUNG', 4 * DISPATCHER_DEFAULTS.concurrency);
const ISOLATION_WARMUP = 20;
/** After the window, how long the steady events still missing are waited for. */
const ISOLATION_GRACE_MS = 10_000;
const ISOLATION_GOAL = 1.5;
/** The `trees` part: a drain while this many causal trees (of events in the backlog) are watched live, against the same drain unwatched. */
const TREES_WATCHED = positive('BENCH_TREES_WATCHED', 1_000);
const TREES_BACKLOG = positive('BENCH_TREES_BACKLOG', 20_000);
const TREES_SETTLE_TIMEOUT_MS = 60_000;

/** The scenario's parts; BENCH_ONLY (comma-separated) runs some of them, for a quick check. */
const QUEUE_PARTS = ['drain', 'latency', 'webhooks'] as const;
const PARTS = [...QUEUE_PARTS, 'isolation', 'trees'] as const;
type Part = (typeof PARTS)[number];

function selectedParts(raw: string | undefined): Set<Part> {
  if (raw === undefined || raw.trim() === '') return new Set(PARTS);
  const names = raw.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown part ${unknown.map((n) => `"${n}"`).join(', ')}; the delivery scenario's parts are ${PARTS.join(', ')}`);
  return new Set(names as Part[]);
}

/**
 * The queues' shared settings. Concurrency: the dispatcher's default, given
 * to every side (graphile-worker's perf test runs 24; equal concurrency is
 * the fair comparison, and its local queue of 500 is above either). Pools:
 * ours as `dispatch` sizes it (DATABASE_POOL_MAX, default 10, capped at DISPATCH_POOL_MAX in
 * src/engine/commands/dispatch.ts), graphile-worker's as its perf test does
 * (concurrency + 1), and the same idle timeout (postgres.js's 30 s in
 * src/engine/db/client.ts). Both wake on LISTEN/NOTIFY; pollInterval matches
 * the dispatcher's backstop poll.
 */
const QUEUE_LOG_LEVEL = process.env.BENCH_QUEUE_LOG_LEVEL ?? 'warn';
const QUEUE = {
  concurrency: DISPATCHER_DEFAULTS.concurrency,
  dispatcherPoolMax: Math.min(positive('DATABASE_POOL_MAX', 10), DISPATCH_POOL_MAX),
  graphilePoolMax: DISPATCHER_DEFAULTS.concurrency + 1,
  poolIdleMs: 30_000,
  pollMs: DISPATCHER_DEFAULTS.pollMs,
  logLevel: QUEUE_LOG_LEVEL,
  /** Whether the level writes a line per job (our `delivery attempt`, graphile-worker's `Completed task`). */
  perJobLines: ['trace', 'debug', 'info'].includes(QUEUE_LOG_LEVEL),
};

type Side = 'ours' | GraphileSide;
type GraphileSide = 'graphile' | 'graphileBatched';
const SIDES: readonly Side[] = ['ours', 'graphile', 'graphileBatched'];
const GRAPHILE_SIDES: readonly GraphileSide[] = ['graphile', 'graphileBatched'];
const SIDE_NAME: Record<Side, string> = { ours: 'dispatcher', graphile: 'graphile-worker', graphileBatched: 'graphile-worker batched' };
const VARIANT: Record<GraphileSide, GraphileVariant> = { graphile: 'unbatched', graphileBatched: 'batched' };
const variantOf = (side: Side): GraphileVariant | undefined => (side === 'ours' ? undefined : VARIANT[side]);

interface Drain {
  eventsPerS: number;
  ms: number;
  lastJobMs: number;
  consumerCores: number;
  postgresCores: number;
  receiverCores?: number;
}

export default async function run(ctx: BenchContext): Promise<Metric[]> {
  const only = selectedParts(process.env.BENCH_ONLY);
  const database = connect(ctx.databaseUrl, { max: 2, applicationName: 'threefactor-bench' });
  ctx.defer(() => database.close());
  const { sql, db } = database;
  await graphileMigrations({ connectionString: ctx.databaseUrl });
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;

  const receiver = forkTs<ReceiverOut, ReceiverIn>(path.join(LIB, 'receiverChild.ts'), { name: 'webhook receiver' });
  ctx.defer(async () => receiver.kill());
  const receiverUrl = (await receiver.next('ready')).url;
  // Routing needs the triggers before the first backlog is written; the dispatcher syncs the same definitions again (a no-op).
  await syncTriggers(sql, benchTriggers(receiverUrl));

  const env = {
    DATABASE_URL: ctx.databaseUrl,
    WEBHOOK_SECRET: webhookSecret,
    QUEUE_CONCURRENCY: String(QUEUE.concurrency),
    QUEUE_LOG_LEVEL: QUEUE.logLevel,
    DISPATCH_POOL_MAX: String(QUEUE.dispatcherPoolMax),
    GW_POOL_MAX: String(QUEUE.graphilePoolMax),
    GW_POOL_IDLE_MS: String(QUEUE.poolIdleMs),
    GW_POLL_MS: String(QUEUE.pollMs),
    // graphile-worker reads it once, at import: below info it writes no line per job (its perf test sets it).
    NO_LOG_SUCCESS: QUEUE.perJobLines ? undefined : '1',
  };
  // One graphile-worker process serves both of its configurations, on one warmed pool: two would hold 2 × 51 connections.
  const dispatcherChild: Child<QueueChildOut, QueueChildIn> = forkTs(path.join(LIB, 'dispatcherChild.ts'), { name: 'dispatcher', env, outputFile: path.join(ctx.tmpDir, 'dispatcher.log') });
  const graphileChild: Child<QueueChildOut, QueueChildIn> = forkTs(path.join(LIB, 'graphileChild.ts'), { name: 'graphile-worker', env, outputFile: path.join(ctx.tmpDir, 'graphile-worker.log') });
  const children: Record<Side, Child<QueueChildOut, QueueChildIn>> = { ours: dispatcherChild, graphile: graphileChild, graphileBatched: graphileChild };
  for (const child of [dispatcherChild, graphileChild]) {
    ctx.defer(async () => child.kill());
    await child.next('ready');
  }
  const pgCpu = await serverCpu(sql);

  const reset = async () => {
    await sql`truncate threefactor.events cascade`;
    await sql`truncate graphile_worker._private_jobs`;
    await sql`vacuum analyze threefactor.events, threefactor.deliveries, threefactor.delivery_attempts, graphile_worker._private_jobs`;
  };
  /** Settle the backlog on disk before a measured window: statistics, visibility map, and no checkpoint halfway through. */
  const settle = async () => {
    await sql`vacuum analyze threefactor.events, threefactor.deliveries, graphile_worker._private_jobs`;
    await sql`checkpoint`.catch(() => {});
  };

  const writeBacklog = async (side: Side, job: DeliveryJob, count: number) => {
    for (let from = 0; from < count; from += CHUNK) {
      const n = Math.min(CHUNK, count - from);
      if (side === 'ours') {
        const rows = Array.from({ length: n }, (_, i) => ({
          type: EVENT_TYPE[job],
          aggregate_type: 'order',
          aggregate_id: `bench-${from + i}`,
          payload: orderPayload(from + i),
        }));
        await sql`
          insert into threefactor.events (type, aggregate_type, aggregate_id, payload, session, trace_context)
          select e.type, e.aggregate_type, e.aggregate_id, e.payload, ${JSON.stringify(SESSION)}::jsonb, ${JSON.stringify(TRACE)}::jsonb
          from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as e(type text, aggregate_type text, aggregate_id text, payload jsonb)`;
      } else {
        const specs = Array.from({ length: n }, (_, i) => ({ identifier: TASK[job], payload: jobPayload(job, from + i) }));
        await sql`
          select count(*) from graphile_worker.add_jobs(array(
            select row(j.identifier, j.payload, null, null, null, null, null, null)::graphile_worker.job_spec
            from json_to_recordset(${JSON.stringify(specs)}::text::json) as j(identifier text, payload json)))`;
      }
    }
    if (side === 'ours') {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = 'pending'`;
      if (row!.n !== count) throw new Error(`routing made ${row!.n} deliveries for ${count} events`);
    }
  };

  /** Every job done exactly once and recorded; for webhooks, every POST received. */
  const audit = async (side: Side, job: DeliveryJob, count: number, drained: Extract<QueueChildOut, { type: 'drained' }>) => {
    if (drained.failed || drained.succeeded !== count) throw new Error(`${SIDE_NAME[side]}: ${drained.succeeded} succeeded, ${drained.failed} failed of ${count}`);
    if (side === 'ours') {
      const [row] = await sql<{ delivered: number; attempts: number }[]>`
        select (select count(*)::int from threefactor.deliveries where status = 'delivered') as delivered,
               (select count(*)::int from threefactor.delivery_attempts where outcome = 'delivered') as attempts`;
      if (row!.delivered !== count || row!.attempts !== count) throw new Error(`dispatcher recorded ${JSON.stringify(row)} for ${count} events`);
    } else {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs`;
      if (row!.n !== 0) throw new Error(`graphile-worker left ${row!.n} jobs`);
    }
    if (job === 'http') {
      receiver.send({ type: 'count' });
      const { received, cores } = await receiver.next('count');
      if (received !== count) throw new Error(`${SIDE_NAME[side]}: the receiver got ${received} POSTs for ${count} events`);
      return cores;
    }
    return undefined;
  };

  /** process.hrtime when the last drain was reported done (the trees part's settle lag). */
  let lastDrainedAtNs = 0n;
  const drain = async (side: Side, job: DeliveryJob, count: number, profile?: string, beforeStart?: () => Promise<void>): Promise<Drain> => {
    await reset();
    await writeBacklog(side, job, count);
    await settle();
    await beforeStart?.();
    const { backgroundCores } = await ctx.quiet();
    receiver.send({ type: 'reset' });
    const pg0 = await pgCpu.sample();
    const child = children[side];
    child.send({ type: 'drain', job, expected: count, receiverUrl, variant: variantOf(side), ...(profile ? { profile } : {}) });
    const drained = await child.next('drained');
    lastDrainedAtNs = process.hrtime.bigint();
    const pg1 = await pgCpu.sample();
    const receiverCores = await audit(side, job, count, drained);
    const result: Drain = {
      eventsPerS: (count * 1000) / drained.ms,
      ms: drained.ms,
      lastJobMs: drained.lastJobMs,
      consumerCores: drained.cores,
      postgresCores: (pg1 - pg0) / (drained.ms * 1000),
      ...(receiverCores === undefined ? {} : { receiverCores }),
    };
    ctx.progress(`  ${SIDE_NAME[side]} ${job}: ${count} in ${(drained.ms / 1000).toFixed(2)} s = ${result.eventsPerS.toFixed(0)}/s (background before: ${backgroundCores.toFixed(2)} cores) ${JSON.stringify(roundAll(result))}`);
    return result;
  };

  const latency = async (side: Side): Promise<{ commitToStart: Float64Array; writeToStart: Float64Array }> => {
    await reset();
    await ctx.quiet();
    const child = children[side];
    child.send({ type: 'serve', receiverUrl, variant: variantOf(side) });
    await child.next('serving');
    const commitToStart = new Float64Array(LATENCY_SAMPLES);
    const writeToStart = new Float64Array(LATENCY_SAMPLES);
    for (let i = -LATENCY_WARMUP; i < LATENCY_SAMPLES; i++) {
      const t0 = process.hrtime.bigint();
      if (side === 'ours') {
        await withEventTransaction(db, { session: SESSION, traceContext: TRACE, eventIds: [] }, ({ emit }) =>
          emit({ type: EVENT_TYPE.noop, aggregateType: 'order', aggregateId: `latency-${i}`, payload: orderPayload(i) }),
        );
      } else {
        await sql`select (graphile_worker.add_job(${TASK.noop}, ${JSON.stringify(jobPayload('noop', i))}::json)).id`;
      }
      const t1 = process.hrtime.bigint();
      const { atNs } = await withTimeout(child.next('handled'), 10_000, `${SIDE_NAME[side]} did not start a job within 10 s`);
      if (i >= 0) {
        commitToStart[i] = Number(atNs - t1) / 1e6;
        writeToStart[i] = Number(atNs - t0) / 1e6;
      }
    }
    child.send({ type: 'halt' });
    await child.next('halted');
    const s = summarize(commitToStart);
    ctx.progress(`  ${SIDE_NAME[side]} latency: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms (commit → handler start)`);
    return { commitToStart, writeToStart };
  };

  const metrics: Metric[] = [];
  const queueParts = QUEUE_PARTS.filter((p) => only.has(p));
  if (queueParts.length > 0) {
    ctx.progress(`warming up both sides (${WARMUP_BACKLOG} no-op jobs each) …`);
    for (const side of SIDES) await drain(side, 'noop', WARMUP_BACKLOG);

    interface Round {
      drain?: Record<Side, Drain>;
      http?: Record<Side, Drain>;
      latency?: Record<Side, { commitToStart: Float64Array; writeToStart: Float64Array }>;
    }
    const rounds: Round[] = [];
    for (let r = 0; r < ctx.rounds; r++) {
      // Each side goes first once every three rounds, so none always runs on a warmer (or more tired) machine.
      const order: Side[] = SIDES.map((_, i) => SIDES[(i + r) % SIDES.length]!);
      const round: Round = {};
      // BENCH_CPU_PROF: each side's consumer is profiled over its round-1 drains (the figures of that round are a little low).
      const profile = (side: Side, job: DeliveryJob) => (ctx.profileDir && r === 0 ? path.join(ctx.profileDir, `${side}-${job}.cpuprofile`) : undefined);
      if (only.has('drain')) {
        ctx.progress(`round ${r + 1}/${ctx.rounds}: drain ${BACKLOG} no-op events (${order.map((s) => SIDE_NAME[s]).join(' then ')}) …`);
        const drains = {} as Record<Side, Drain>;
        for (const side of order) drains[side] = await drain(side, 'noop', BACKLOG, profile(side, 'noop'));
        round.drain = drains;
      }
      if (only.has('latency')) {
        ctx.progress(`round ${r + 1}/${ctx.rounds}: ${LATENCY_SAMPLES} sequential commit → handler samples …`);
        const latencies = {} as NonNullable<Round['latency']>;
        for (const side of order) latencies[side] = await latency(side);
        round.latency = latencies;
      }
      if (only.has('webhooks')) {
        ctx.progress(`round ${r + 1}/${ctx.rounds}: ${HTTP_BACKLOG} webhooks …`);
        const https = {} as Record<Side, Drain>;
        for (const side of order) https[side] = await drain(side, 'http', HTTP_BACKLOG, profile(side, 'http'));
        round.http = https;
      }
      rounds.push(round);
    }
    await reset();

    const throughput = (kind: 'drain' | 'http', side: Side) => median(rounds.map((r) => r[kind]![side].eventsPerS));
    const latencyOf = (side: Side, which: 'commitToStart' | 'writeToStart') => latencyOverRounds(rounds.map((r) => r.latency![side][which]));

    ctx.configure('dispatcher', {
      ...DISPATCHER_DEFAULTS,
      concurrency: QUEUE.concurrency,
      poolMax: QUEUE.dispatcherPoolMax,
      poolIdleTimeoutS: QUEUE.poolIdleMs / 1000,
      pool: `postgres.js, as the dispatch command opens it (DATABASE_POOL_MAX capped at ${DISPATCH_POOL_MAX}), plus its LISTEN connection; warmed before each timed window`,
      statements: 'named prepared statements (session pool mode)',
      logLevel: QUEUE.logLevel,
      perJobLogLine: QUEUE.perJobLines,
      handler: 'in-process no-op / webhook POST (node:http, keep-alive agent)',
    });
    const graphileConfig = (variant: GraphileVariant) => ({
      version: GRAPHILE_VERSION,
      concurrentJobs: QUEUE.concurrency,
      pool: `pg.Pool of ${QUEUE.graphilePoolMax} (concurrency + 1, as its perf test), idleTimeoutMillis ${QUEUE.poolIdleMs}; built at start and warmed before each timed window`,
      pollInterval: QUEUE.pollMs,
      preparedStatements: true,
      ...GRAPHILE_VARIANTS[variant],
      logLevel: QUEUE.logLevel,
      perJobLogLine: QUEUE.perJobLines,
      NO_LOG_SUCCESS: !QUEUE.perJobLines,
      tasks: 'no-op / one webhook attempt with our own code (attemptDelivery: same body, signature, headers, node:http POST)',
    });
    ctx.configure('graphile-worker', graphileConfig('unbatched'));
    ctx.configure('graphile-worker batched', graphileConfig('batched'));
    ctx.configure('workload', {
      backlog: BACKLOG,
      httpBacklog: HTTP_BACKLOG,
      warmupBacklogPerSide: WARMUP_BACKLOG,
      latencySamplesPerRound: LATENCY_SAMPLES,
      latencyWarmupPerRound: LATENCY_WARMUP,
      rounds: ctx.rounds,
      sideOrder: 'rotating: each side goes first once every three rounds',
      reset: 'both queues\' tables emptied and vacuumed before each side; backlogs vacuumed and checkpointed before the window',
      timing: 'drain: consumer start → last completion recorded in the database; latency: commit acknowledged → handler start (process.hrtime across processes)',
    });
    const all = (f: (side: Side) => unknown) => Object.fromEntries(SIDES.map((side) => [side, f(side)]));
    ctx.note(
      'rounds',
      rounds.map((r) => ({
        ...(r.drain ? { drain: all((side) => roundAll(r.drain![side])) } : {}),
        ...(r.http ? { http: all((side) => roundAll(r.http![side])) } : {}),
        ...(r.latency ? { latency: all((side) => roundAll(summarize(r.latency![side].commitToStart))) } : {}),
      })),
    );
    if (ctx.profileDir) ctx.note('profiled', `round 1 drains ran under the V8 profiler (BENCH_CPU_PROF), profiles in ${ctx.profileDir}`);

    const against = (label: string) => (side: GraphileSide) => `${SIDE_NAME[side]} ${label}`;
    if (only.has('drain')) {
      for (const side of GRAPHILE_SIDES) {
        metrics.push(metric(`drain no-op events/s vs ${SIDE_NAME[side]}`, throughput('drain', 'ours'), 'events/s', { name: against('jobs/s')(side), value: throughput('drain', side) }));
      }
    }
    if (only.has('latency')) {
      const lat = Object.fromEntries(SIDES.map((side) => [side, latencyOf(side, 'commitToStart')])) as Record<Side, RoundsLatency>;
      ctx.note('latency write start → handler start (ms, median of rounds)', all((side) => roundAll(omitRounds(latencyOf(side, 'writeToStart')))));
      ctx.note('latency commit → handler start (ms, median of rounds)', all((side) => roundAll(omitRounds(lat[side]))));
      for (const side of GRAPHILE_SIDES) {
        metrics.push(
          metric(`commit→handler p50 vs ${SIDE_NAME[side]}`, lat.ours.p50, 'ms', { name: against('add_job→task p50')(side), value: lat[side].p50 }),
          metric(`commit→handler p99 vs ${SIDE_NAME[side]}`, lat.ours.p99, 'ms', { name: against('add_job→task p99')(side), value: lat[side].p99 }),
        );
      }
    }
    if (only.has('webhooks')) {
      for (const side of GRAPHILE_SIDES) {
        metrics.push(metric(`webhooks events/s vs ${SIDE_NAME[side]}`, throughput('http', 'ours'), 'events/s', { name: against('POST jobs/s')(side), value: throughput('http', side) }));
      }
    }
  }

  if (only.has('isolation')) metrics.push(await measureIsolation(ctx, { sql, db, receiver, receiverUrl, dispatcher: children.ours, reset }));
  if (only.has('trees')) metrics.push(await measureTrees(ctx, { sql, drain, drainedAtNs: () => lastDrainedAtNs }));
  if (only.size < PARTS.length) ctx.note('only', `BENCH_ONLY=${[...only].join(',')}: a partial run, for a quick check (not a record to commit)`);
  return metrics;
}

/** The isolation measurement's two sides: the steady trigger alone (the baseline), and beside a hung one. */
type IsolationSide = 'alone' | 'hung';

interface IsolationRun {
  /** Commit acknowledged → the receiver has read the body, one per steady event (ms); an event that never arrived counts as arriving at the end of the grace period. */
  commitToHandler: Float64Array;
  /** Steady events that had not arrived by the end of the grace period. */
  censored: number;
  /** `/hang` requests held open once the hung backlog settled, and at the end of the window. */
  heldBefore: number;
  heldAfter: number;
  backgroundCores: number;
}

interface IsolationDeps {
  sql: ReturnType<typeof connect>['sql'];
  db: ReturnType<typeof connect>['db'];
  receiver: Child<ReceiverOut, ReceiverIn>;
  receiverUrl: string;
  dispatcher: Child<QueueChildOut, QueueChildIn>;
  reset: () => Promise<void>;
}

/**
 * 4. Isolation: a webhook trigger whose handler hangs must not hold up the
 *    others. One dispatcher with the production defaults (concurrency 50)
 *    and no cap anywhere serves two webhook triggers: `bench-hung`, flooded
 *    with a backlog of BENCH_ISOLATION_HUNG events (4× the concurrency: all
 *    of it, if allowed) whose requests the receiver holds open for the whole
 *    window; and `bench-steady`, a no-op POST, written open loop at
 *    BENCH_ISOLATION_RATE events/s for BENCH_DURATION_S. The value is the
 *    steady trigger's p99 commit → receiver; the baseline is the same steady
 *    trigger, same dispatcher and triggers, same rate, with nothing hanging,
 *    in the same run (sides alternate which goes first). Goal: ratio ≤ 1.5.
 */
async function measureIsolation(ctx: BenchContext, d: IsolationDeps): Promise<Metric> {
  const windowMs = ctx.durationMs;
  const steadyCount = Math.max(1, Math.round((ISOLATION_RATE * windowMs) / 1000));
  if (windowMs + ISOLATION_GRACE_MS + 60_000 > HUNG_TIMEOUT_SEC * 1000) {
    throw new Error(`BENCH_DURATION_S is too long for the isolation measurement: hung requests time out after ${HUNG_TIMEOUT_SEC} s`);
  }

  const held = async () => {
    d.receiver.send({ type: 'held' });
    return (await d.receiver.next('held')).held;
  };
  /** Until the number of held requests has not moved for a second: the dispatcher has taken what its rule allows. */
  const settledHeld = async () => {
    const deadline = Date.now() + 15_000;
    let last = -1;
    let stableSince = Date.now();
    for (;;) {
      const n = await held();
      if (n !== last) {
        last = n;
        stableSince = Date.now();
      } else if (n > 0 && Date.now() - stableSince >= 1_000) return n;
      if (Date.now() > deadline) {
        if (n > 0) return n;
        throw new Error('isolation: no hung request reached the receiver within 15 s');
      }
      await sleep(100);
    }
  };
  /** Steady events, open loop at ISOLATION_RATE; the commit acknowledgement of each by event id. */
  const writeSteady = async (prefix: string, count: number) => {
    const sent = new Map<string, bigint>();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      await sleep(t0 + (i * 1000) / ISOLATION_RATE - performance.now());
      const id = await withEventTransaction(d.db, { session: SESSION, traceContext: TRACE, eventIds: [] }, ({ emit }) =>
        emit({ type: ISOLATION.steady.type, aggregateType: 'order', aggregateId: `${prefix}-${i}`, payload: orderPayload(i) }),
      );
      sent.set(id, process.hrtime.bigint());
    }
    return sent;
  };
  /** The receiver's arrival time of each sent event, waiting up to `timeoutMs` for the last ones. */
  const arrivalsOf = async (sent: Map<string, bigint>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      d.receiver.send({ type: 'arrivals' });
      const at = new Map((await d.receiver.next('arrivals')).arrivals.map((a) => [a.id, a.atNs]));
      const missing = [...sent.keys()].filter((id) => !at.has(id)).length;
      if (missing === 0 || Date.now() > deadline) return at;
      await sleep(50);
    }
  };

  const side = async (which: IsolationSide, r: number): Promise<IsolationRun> => {
    await d.reset();
    const { backgroundCores } = await ctx.quiet();
    d.receiver.send({ type: 'reset' });
    if (which === 'hung') d.receiver.send({ type: 'hang' });
    d.dispatcher.send({ type: 'serve', receiverUrl: d.receiverUrl, triggers: 'isolation' });
    await d.dispatcher.next('serving');
    try {
      const warm = await writeSteady(`warmup-${r}-${which}`, ISOLATION_WARMUP);
      if ((await arrivalsOf(warm, 10_000)).size < warm.size) throw new Error('isolation: the warm-up steady events did not all arrive within 10 s');
      d.receiver.send({ type: 'reset' });
      let heldBefore = 0;
      if (which === 'hung') {
        await d.sql`
          insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
          select ${ISOLATION.hung.type}, 'order', 'hung-' || n, jsonb_build_object('n', n) from generate_series(1, ${ISOLATION_HUNG}) as n`;
        heldBefore = await settledHeld();
      }
      const sent = await writeSteady(`steady-${r}-${which}`, steadyCount);
      const heldAfter = which === 'hung' ? await held() : 0;
      const at = await arrivalsOf(sent, ISOLATION_GRACE_MS);
      const graceEnd = process.hrtime.bigint();
      const commitToHandler = Float64Array.from([...sent].map(([id, committed]) => Number((at.get(id) ?? graceEnd) - committed) / 1e6));
      const run = { commitToHandler, censored: [...sent.keys()].filter((id) => !at.has(id)).length, heldBefore, heldAfter, backgroundCores };
      const s = summarize(commitToHandler);
      ctx.progress(
        `  isolation ${which}: steady p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(0)} ms over ${sent.size}` +
          (which === 'hung' ? `; ${run.censored} never arrived; hung requests held ${heldBefore} → ${heldAfter}` : ''),
      );
      return run;
    } finally {
      // Stop claiming, and let the held requests go so the stop need not wait for their timeout.
      d.dispatcher.send({ type: 'halt' });
      d.receiver.send({ type: 'release' });
      await d.dispatcher.next('halted');
    }
  };

  const rounds: Array<Record<IsolationSide, IsolationRun>> = [];
  for (let r = 0; r < ctx.rounds; r++) {
    const order: IsolationSide[] = r % 2 === 0 ? ['alone', 'hung'] : ['hung', 'alone'];
    ctx.progress(`round ${r + 1}/${ctx.rounds}: isolation, ${steadyCount} steady webhooks at ${ISOLATION_RATE}/s (${order.join(' then ')}) …`);
    const round = {} as Record<IsolationSide, IsolationRun>;
    for (const which of order) round[which] = await side(which, r);
    rounds.push(round);
  }
  await d.reset();

  const overRounds = (which: IsolationSide) => latencyOverRounds(rounds.map((r) => r[which].commitToHandler));
  const alone = overRounds('alone');
  const hung = overRounds('hung');
  ctx.note('isolation', {
    goal: `ratio ≤ ${ISOLATION_GOAL}: the steady trigger's p99 while another trigger's handler hangs, against its p99 with nothing hanging`,
    configuration: {
      dispatcher: { ...DISPATCHER_DEFAULTS, cap: 'none (no trigger concurrency or ratePerSecond)', triggers: [ISOLATION.hung.trigger, ISOLATION.steady.trigger] },
      hung: { backlog: ISOLATION_HUNG, timeoutSec: HUNG_TIMEOUT_SEC, numRetries: 0, receiver: 'holds every request open until released after the window' },
      steady: { ratePerS: ISOLATION_RATE, windowMs, eventsPerSide: steadyCount, warmupEvents: ISOLATION_WARMUP, receiver: 'no-op, 200 at once' },
      baseline: 'the same dispatcher, triggers, rate and window, with no hung backlog',
      timing: `commit acknowledged → receiver has read the body (process.hrtime across processes); an event not arrived ${ISOLATION_GRACE_MS / 1000} s after the window counts as arriving then (a lower bound)`,
    },
    rounds: rounds.map((r) => ({
      alone: { ...roundAll(summarize(r.alone.commitToHandler)), backgroundCores: round(r.alone.backgroundCores, 3) },
      hung: {
        ...roundAll(summarize(r.hung.commitToHandler)),
        censored: r.hung.censored,
        heldBefore: r.hung.heldBefore,
        heldAfter: r.hung.heldAfter,
        backgroundCores: round(r.hung.backgroundCores, 3),
      },
    })),
    medianOfRounds: { alone: roundAll(omitRounds(alone)), hung: roundAll(omitRounds(hung)), censored: rounds.reduce((n, r) => n + r.hung.censored, 0) },
  });
  return metric('isolation: other trigger p99 while one hangs', hung.p99, 'ms', { name: 'same trigger p99, nothing hanging', value: alone.p99 });
}

/** A figure without its per-round list (the notes' `rounds` has those). */
function omitRounds({ rounds: _, ...figure }: RoundsLatency): Omit<RoundsLatency, 'rounds'> {
  return figure;
}

function roundAll<T extends object>(o: T): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 4) : v]));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

interface TreesDeps {
  sql: Sql;
  drain(side: Side, job: DeliveryJob, count: number, profile?: string, beforeStart?: () => Promise<void>): Promise<Drain>;
  drainedAtNs(): bigint;
}

/**
 * 5. Trees (ours only): what watching causal trees live costs a drain. The
 *    same no-op backlog is drained with no tree watched and with
 *    TREES_WATCHED trees watched (the `causalTree` subscription over
 *    graphql-ws, from a watchers process, on an API process that runs for
 *    both sides), alternating which goes first. The watched side's trees
 *    grow from the completer's outcome events; the hub re-reads the touched
 *    trees in one statement per tick. ratio = watched / unwatched; also
 *    recorded: how long after the drain the last tree settled.
 */
async function measureTrees(ctx: BenchContext, d: TreesDeps): Promise<Metric> {
  const api = await startApiProcess({ databaseUrl: ctx.databaseUrl, jwtSecret: ctx.jwtSecret, logFile: path.join(ctx.tmpDir, 'trees-api.log') });
  ctx.defer(() => api.stop());
  const watchers: Child<WatchersOut, WatchersIn> = forkTs(path.join(LIB, 'trees/watchersChild.ts'), { name: 'tree watchers', outputFile: path.join(ctx.tmpDir, 'tree-watchers.log') });
  ctx.defer(async () => watchers.kill());
  const token = await mintToken(ctx.jwtSecret, { role: 'admin', sub: 'bench-tree-watcher' });
  const watched = Math.min(TREES_WATCHED, TREES_BACKLOG);

  const rounds: Array<{ none: Drain; watched: Drain; settleLagMs: number; updates: number }> = [];
  for (let r = 0; r < ctx.rounds; r++) {
    ctx.progress(`round ${r + 1}/${ctx.rounds}: drain ${TREES_BACKLOG} no-op events with ${watched} causal trees watched and with none …`);
    const order: Array<'none' | 'watched'> = r % 2 === 0 ? ['none', 'watched'] : ['watched', 'none'];
    const round: Partial<(typeof rounds)[number]> = {};
    for (const side of order) {
      if (side === 'none') {
        round.none = await d.drain('ours', 'noop', TREES_BACKLOG);
        continue;
      }
      let settled: Promise<Extract<WatchersOut, { type: 'settled' }>> | undefined;
      const drained = await d.drain('ours', 'noop', TREES_BACKLOG, undefined, async () => {
        // Roots spread over the backlog, so trees settle all through the drain, not only at its start.
        const step = Math.max(1, Math.floor(TREES_BACKLOG / watched));
        const roots = await d.sql<{ id: string }[]>`select id from threefactor.events where seq % ${step} = 0 order by seq limit ${watched}`;
        if (roots.length !== watched) throw new Error(`trees: found ${roots.length} roots for ${watched}`);
        settled = watchers.next('settled');
        watchers.send({ type: 'watch', url: api.url, token, roots: roots.map((x) => x.id) });
        const watching = await watchers.next('watching');
        if (watching.errors) throw new Error(`trees: ${watching.errors} subscriptions failed to start`);
      });
      const done = await withTimeout(settled!, TREES_SETTLE_TIMEOUT_MS, `trees: not every watched tree settled within ${TREES_SETTLE_TIMEOUT_MS / 1000} s of the drain`);
      if (done.errors) throw new Error(`trees: ${done.errors} subscriptions failed`);
      watchers.send({ type: 'close' });
      await watchers.next('closed');
      round.watched = drained;
      round.settleLagMs = Number(done.lastCompletedNs - d.drainedAtNs()) / 1e6;
      round.updates = done.updates;
      ctx.progress(`  last watched tree settled ${round.settleLagMs.toFixed(1)} ms after the drain was recorded; ${done.updates} tree updates sent`);
    }
    rounds.push(round as (typeof rounds)[number]);
  }
  const throughput = (side: 'none' | 'watched') => median(rounds.map((x) => x[side].eventsPerS));
  const treesSetup = { backlog: TREES_BACKLOG, dispatcher: 'the dispatcher child of the other parts, in-process no-op', api: 'one API process (production settings) running for both sides', sideOrder: 'alternating' };
  ctx.configure('trees watched', { ...treesSetup, watched, subscription: 'causalTree(eventId) over graphql-ws as an admin, 100 per socket, from its own process' });
  ctx.configure('trees unwatched (baseline)', { ...treesSetup, watched: 0 });
  ctx.note('trees', {
    rounds: rounds.map((x) => ({ none: roundAll(x.none), watched: roundAll(x.watched), settleLagMs: round(x.settleLagMs, 1), updates: x.updates })),
    'last tree settled after the drain (ms, median of rounds)': round(median(rounds.map((x) => x.settleLagMs)), 1),
  });
  return metric(`drain no-op events/s with ${watched} causal trees watched`, throughput('watched'), 'events/s', { name: 'the same drain, no tree watched', value: throughput('none') });
}
