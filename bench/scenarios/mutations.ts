/**
 * `mutations`: placeOrder throughput and latency over real HTTP (32
 * concurrent keep-alive clients against the API in its own process) against
 * two baselines in the same run, on the same database, in rotating order:
 * - bare Node (lib/mutations/bareNodeChild.ts): a node:http handler on
 *   postgres.js with the API's pool size, fed by the same load generator and
 *   requests, running bench/sql/place-order.pgbench statement for statement,
 *   prepared: the honest limit for a Node server (goal: placeOrder >= 0.8x);
 * - pgbench: the same SQL transaction from PostgreSQL's own client, 32
 *   clients, -M prepared (the database's limit).
 * PostgreSQL's CPU per transaction is recorded for all three (goal:
 * placeOrder's <= 1.2x pgbench's).
 *
 * Workload, identical on every side (see bench/sql/place-order.pgbench): a
 * uniformly random demo customer orders the first two menu items of a
 * uniformly random demo restaurant, 1–3 of each. Before each side the order
 * tables and the event log are emptied and vacuumed, so no side inherits
 * another's table growth. The API and the bare handler run only during
 * their own side. Every side is audited: the rows written must match the
 * menu and each other, and in round 1 the per-order table accesses
 * (pg_stat_user_tables) of all three must be equal.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { connect } from '../../src/engine/db/client.js';
import { demoCustomers, demoMenuItems, demoRestaurants } from '../../src/apps/food-delivery/db/demoData.js';
import { mintToken } from '../../src/engine/server/auth.js';
import type { ApiProcess } from '../lib/apiProcess.js';
import type { BenchContext } from '../lib/context.js';
import { forkTs, type Child } from '../lib/child.js';
import { coresUsed, machineCoresBusy, machineSample, type CpuSample, type MachineSample } from '../lib/cpu.js';
import type { BareChildIn, BareChildOut } from '../lib/mutations/bareNodeChild.js';
import { runHttpLoad, type HttpRequestSpec } from '../lib/httpLoad.js';
import { runPgbench } from '../lib/pgbench.js';
import { serverCpu } from '../lib/serverCpu.js';
import { accessDifferences, accessPer, settledAccess, tableAccess, type TableAccess } from '../lib/tableAccess.js';
import { metric, ratioGoal, type Metric } from '../lib/report.js';
import { latencyOverRounds, median, round, summarize } from '../lib/stats.js';

export const description = 'placeOrder over HTTP, 32 keep-alive clients, vs the same transaction from a bare node:http handler on postgres.js and from pgbench (tps, p50/p99, PostgreSQL CPU per transaction)';

const CONCURRENCY = 32;
const PGBENCH_THREADS = 2;
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../sql/place-order.pgbench');
const DELIVERY_ADDRESS = '1 Benchmark Row';
const BARE_CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib/mutations/bareNodeChild.ts');
const LABEL = { ours: 'placeOrder over HTTP', bare: 'bare-Node placeOrder', pgbench: 'pgbench', 'pgbench-extended': 'pgbench -M extended' } as const;
/** Issue 14's bars: placeOrder at least 0.8x the bare-Node handler, and PostgreSQL's CPU per placeOrder at most 1.2x pgbench's. */
const GOAL_VS_BARE = 0.8;
const GOAL_PG_CPU_VS_PGBENCH = 1.2;

const PLACE_ORDER = /* GraphQL */ `
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) { id status totalCents version }
  }`;

interface Side {
  tps: number;
  /** Transactions the database did for this side, warmup included. */
  work: number;
  samplesMs: Float64Array;
  detail: Record<string, number>;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const quantity = () => 1 + Math.floor(Math.random() * 3);

/** The same choices the pgbench script makes with \set, as GraphQL requests. */
async function placeOrderRequests(secret: string, count: number): Promise<HttpRequestSpec[]> {
  const tokens = new Map<string, string>();
  for (const c of demoCustomers) tokens.set(c.id!, await mintToken(secret, { role: 'customer', sub: c.id! }));
  return Array.from({ length: count }, () => {
    const restaurant = pick(demoRestaurants);
    const [first, second] = demoMenuItems.filter((m) => m.restaurantId === restaurant.id);
    const input = {
      restaurantId: restaurant.id,
      items: [first!, second!].map((m) => ({ menuItemId: m.id, quantity: quantity() })),
      deliveryAddress: DELIVERY_ADDRESS,
    };
    return {
      path: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(pick(demoCustomers).id!)}` },
      body: JSON.stringify({ query: PLACE_ORDER, variables: { input }, operationName: 'PlaceOrder' }),
    };
  });
}

export default async function run(ctx: BenchContext): Promise<Metric[]> {
  const database = connect(ctx.databaseUrl, { max: 1, applicationName: 'threefactor-bench' });
  ctx.defer(() => database.close());
  await seedDemoData(database.db);
  const { sql } = database;

  const reset = async () => {
    // CASCADE: whatever references orders or events (items, payments, deliveries …) goes too; the catalogue stays.
    await sql`truncate orders, threefactor.events cascade`;
    await sql`vacuum analyze order_items, orders, threefactor.events`;
    // A checkpoint now rather than in the middle of a measured window (needs superuser; skipped otherwise).
    await sql`checkpoint`.catch(() => {});
  };
  /**
   * Both sides must have done the same work: one order, two items priced
   * from the menu, a matching total and one order.placed event carrying the
   * customer's session per transaction. Otherwise the comparison is void.
   */
  const audit = async (label: string) => {
    const [row] = await sql<Record<'orders' | 'items' | 'events' | 'wrongItems' | 'wrongTotals' | 'wrongEvents', number>[]>`
      select (select count(*)::int from orders) as orders,
             (select count(*)::int from order_items) as items,
             (select count(*)::int from threefactor.events where type = 'order.placed') as events,
             (select count(*)::int from order_items i join menu_items m on m.id = i.menu_item_id
               where i.name <> m.name or i.unit_price_cents <> m.price_cents) as "wrongItems",
             (select count(*)::int from orders o
               where o.total_cents <> (select sum(i.quantity * i.unit_price_cents) from order_items i where i.order_id = o.id)) as "wrongTotals",
             (select count(*)::int from threefactor.events e join orders o on o.id::text = e.aggregate_id
               where (e.payload->>'totalCents')::int <> o.total_cents
                  or e.session->>'x-hasura-user-id' <> o.customer_id::text
                  or e.trace_context->>'traceparent' is null) as "wrongEvents"`;
    const ok = row && row.orders > 0 && row.events === row.orders && row.items === 2 * row.orders && !row.wrongItems && !row.wrongTotals && !row.wrongEvents;
    if (!ok) throw new Error(`${label} did not do the same work as placeOrder: ${JSON.stringify(row)}`);
    return row.orders;
  };

  const requests = await placeOrderRequests(ctx.jwtSecret, 512);
  /**
   * The API runs only while its side is measured: it is the real API, whose
   * realtime hub tails the event log on every NOTIFY, and left running it
   * would read pgbench's events too and slow the baseline down.
   */
  let poolMax = Number.NaN;
  const startApi = async (): Promise<ApiProcess> => {
    const api = await ctx.startApi();
    poolMax = api.poolMax;
    // One order first: a broken mutation should fail in a second, not after a warmup.
    const probe = await fetch(`${api.url}/graphql`, { method: 'POST', headers: requests[0]!.headers, body: requests[0]!.body });
    const probeBody = await probe.text();
    if (probe.status !== 200 || probeBody.includes('"errors"')) throw new Error(`placeOrder probe failed: HTTP ${probe.status} ${probeBody.slice(0, 500)}`);
    return api;
  };
  /** The bare-Node baseline (lib/mutations/bareNodeChild.ts), with the API's pool size; started and stopped like the API. */
  const startBare = async () => {
    // Round 1 runs the API first: its pool size, as its config resolved it, is the one to match.
    if (!Number.isFinite(poolMax)) throw new Error('the bare-Node baseline runs after the API has reported its pool size');
    const child: Child<BareChildOut, BareChildIn> = forkTs(BARE_CHILD, {
      name: 'bare-Node baseline',
      env: { DATABASE_URL: ctx.databaseUrl, BARE_POOL_MAX: String(poolMax) },
    });
    ctx.defer(async () => {
      child.kill();
      await child.exited;
    });
    const { url } = await child.next('ready');
    const probe = await fetch(`${url}/graphql`, { method: 'POST', headers: requests[0]!.headers, body: requests[0]!.body });
    const probeBody = await probe.text();
    if (probe.status !== 200 || probeBody.includes('"errors"')) throw new Error(`bare-Node probe failed: HTTP ${probe.status} ${probeBody.slice(0, 500)}`);
    const sample = async () => {
      child.send({ type: 'cpu' });
      return (await child.next('cpu')).sample;
    };
    return {
      url,
      cpu: sample,
      cores: async (from: CpuSample) => coresUsed(from, await sample()),
      stop: async () => {
        child.send({ type: 'stop' });
        await child.next('stopped').catch(() => {});
        await child.exited;
      },
    };
  };
  ctx.progress(`${ctx.rounds} round(s) of ${ctx.warmupMs / 1000}+${ctx.durationMs / 1000} s per side`);

  const pgCpu = await serverCpu(sql);
  const cores = os.cpus().length;
  /** CPU per transaction, ms: what each party spent on one order. */
  const perTx = (coresUsed: number, tps: number) => (coresUsed * 1000) / tps;

  /** An HTTP server under the load generator: the API, or the bare-Node baseline. */
  interface HttpServer {
    url: string;
    cpu(): Promise<CpuSample>;
    cores(from: CpuSample): Promise<number>;
    startProfile?(): Promise<void>;
    stopProfile?(file: string): Promise<string>;
    stop(): Promise<void>;
  }
  const overHttp = async (server: HttpServer, what: string, profile: string | undefined): Promise<Side> => {
    let serverFrom: CpuSample | undefined;
    let machineFrom: MachineSample | undefined;
    let pgFrom = Number.NaN;
    let windowFrom = 0;
    let serverCores = Number.NaN;
    let machineCores = Number.NaN;
    let postgresCores = Number.NaN;
    const profiling = profile && server.startProfile && server.stopProfile ? { start: server.startProfile, stop: server.stopProfile } : undefined;
    const result = await runHttpLoad(
      { url: server.url, requests, concurrency: CONCURRENCY, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, failIfBodyIncludes: '"errors"' },
      {
        onWindowStart: async () => {
          [serverFrom, machineFrom, pgFrom] = await Promise.all([server.cpu(), machineSample(), pgCpu.sample()]);
          windowFrom = performance.now();
          if (profiling) await profiling.start();
        },
        onWindowEnd: async () => {
          if (profiling) ctx.progress(`API CPU profile of the window: ${await profiling.stop(profile!)}`);
          const [a, m, p] = await Promise.all([server.cores(serverFrom!), machineSample(), pgCpu.sample()]);
          const wallUs = (performance.now() - windowFrom) * 1000;
          [serverCores, machineCores, postgresCores] = [a, machineCoresBusy(machineFrom, m, cores), (p - pgFrom) / wallUs];
        },
      },
    );
    await server.stop();
    if (result.failed) throw new Error(`${result.failed} ${what} requests failed; first: ${result.firstFailure}`);
    const tps = result.rps;
    return {
      tps,
      // The probe order counts: it was written after the side's reset.
      work: result.succeeded + 1,
      samplesMs: result.samplesMs,
      detail: {
        machineCores,
        postgresCores,
        serverCores,
        loadGeneratorCores: result.clientCores,
        backgroundCoresDuring: machineCores - postgresCores - serverCores - result.clientCores,
        postgresCpuMsPerTx: perTx(postgresCores, tps),
        serverCpuMsPerTx: perTx(serverCores, tps),
        loadGeneratorCpuMsPerTx: perTx(result.clientCores, tps),
      },
    };
  };
  const ours = async (profile: string | undefined): Promise<Side> => overHttp(await startApi(), 'placeOrder', profile);
  const bare = async (): Promise<Side> => overHttp(await startBare(), 'bare-Node placeOrder', undefined);

  const baseline = async (protocol: 'prepared' | 'extended'): Promise<Side> => {
    const common = { url: ctx.databaseUrl, script: SCRIPT, clients: CONCURRENCY, threads: PGBENCH_THREADS, protocol, tmpDir: ctx.tmpDir } as const;
    const warmup = await runPgbench({ ...common, durationS: Math.max(1, Math.round(ctx.warmupMs / 1000)), noLog: true });
    const [machineFrom, pgFrom, t0] = [await machineSample(), await pgCpu.sample(), performance.now()];
    const result = await runPgbench({ ...common, durationS: Math.max(1, Math.round(ctx.durationMs / 1000)) });
    const [machineTo, pgTo, wallUs] = [await machineSample(), await pgCpu.sample(), (performance.now() - t0) * 1000];
    if (result.failed) throw new Error(`${result.failed} pgbench transactions failed`);
    const machineCores = machineCoresBusy(machineFrom, machineTo, cores);
    const postgresCores = (pgTo - pgFrom) / wallUs;
    const pgbenchCores = result.clientCpuUs / wallUs;
    return {
      tps: result.tps,
      work: warmup.transactions + result.transactions,
      samplesMs: result.samplesMs,
      detail: {
        machineCores,
        postgresCores,
        pgbenchCores,
        backgroundCoresDuring: machineCores - postgresCores - pgbenchCores,
        postgresCpuMsPerTx: perTx(postgresCores, result.tps),
        pgbenchCpuMsPerTx: perTx(pgbenchCores, result.tps),
      },
    };
  };

  type Measured = 'ours' | 'bare' | 'pgbench';
  const rounds: Array<Record<Measured, Side>> = [];
  // Table accesses per order of each side in round 1: they must match, or the script has drifted from placeOrder.
  const access: Partial<Record<Measured, TableAccess>> = {};
  const SIDES: readonly Measured[] = ['ours', 'bare', 'pgbench'];
  let extended: Side | undefined;
  for (let r = 0; r < ctx.rounds; r++) {
    // Alternate which side goes first, so neither always runs on a warmer (or more tired) machine.
    // The first round also runs pgbench with unnamed statements (-M extended), for the notes only:
    // it shows how much of the gap is the protocol rather than the stack.
    const order = [...SIDES.slice(r % SIDES.length), ...SIDES.slice(0, r % SIDES.length)];
    const current: Partial<Record<Measured, Side>> = {};
    for (const side of r === 0 ? [...order, 'pgbench-extended' as const] : order) {
      await reset();
      // Other work on the machine skews a side: wait for a quiet moment, and record what was seen.
      const { backgroundCores } = await ctx.quiet();
      const accessBefore = r === 0 ? await tableAccess(sql) : undefined;
      ctx.progress(`round ${r + 1}/${ctx.rounds}: ${LABEL[side]} (background load before it: ${backgroundCores.toFixed(2)} cores) …`);
      const profile = ctx.profileDir && r === 0 ? path.join(ctx.profileDir, 'api-placeOrder.cpuprofile') : undefined;
      const measured =
        side === 'ours' ? await ours(profile) : side === 'bare' ? await bare() : await baseline(side === 'pgbench' ? 'prepared' : 'extended');
      measured.detail.backgroundCoresBefore = backgroundCores;
      if (accessBefore && side !== 'pgbench-extended') {
        access[side] = accessPer(accessBefore, await settledAccess(sql, accessBefore, 'orders', measured.work), measured.work);
      }
      const orders = await audit(side);
      if (side === 'pgbench-extended') extended = measured;
      else current[side] = measured;
      const lat = summarize(measured.samplesMs);
      ctx.progress(
        `round ${r + 1}/${ctx.rounds}: ${side}: ${measured.tps.toFixed(0)} tx/s, p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms (${orders} orders) ${JSON.stringify(measured.detail, (_, v: unknown) => (typeof v === 'number' ? round(v, 3) : v))}`,
      );
    }
    rounds.push(current as Record<Measured, Side>);
    if (r === 0) {
      // The API's realtime hub reads the event log after every commit; pgbench and the bare handler have no such reader.
      const hubReads = access.ours!.events?.scans ?? 0;
      for (const other of ['bare', 'pgbench'] as const) {
        const drift = accessDifferences(withoutEventReads(access.ours!), withoutEventReads(access[other]!));
        if (drift.length) throw new Error(`${other === 'bare' ? 'the bare-Node baseline' : 'bench/sql/place-order.pgbench'} no longer does what placeOrder does (ours vs ${LABEL[other]}):\n  ${drift.join('\n  ')}`);
      }
      ctx.note('table accesses per order (all three sides, round 1; event-log reads are the API realtime hub only)', access.ours);
      ctx.note('realtime hub reads of the event log per order (ours only)', hubReads);
    }
  }

  // Other work on this shared machine can start in the middle of a side. A round is clean when neither
  // side saw more than the quiet bar of foreign CPU; the figures come from clean rounds when there are any.
  const clean = (side: Side) => !(side.detail.backgroundCoresDuring! > ctx.quietCores);
  const cleanRounds = rounds.filter((r) => SIDES.every((side) => clean(r[side])));
  const used = cleanRounds.length ? cleanRounds : rounds;
  const oursLat = latencyOverRounds(used.map((r) => r.ours.samplesMs));
  const bareLat = latencyOverRounds(used.map((r) => r.bare.samplesMs));
  const pgLat = latencyOverRounds(used.map((r) => r.pgbench.samplesMs));
  const oursTps = median(used.map((r) => r.ours.tps));
  const bareTps = median(used.map((r) => r.bare.tps));
  const pgTps = median(used.map((r) => r.pgbench.tps));
  /** PostgreSQL's CPU per transaction, ms: the median over the rounds used. */
  const pgPerTx = (side: Measured) => median(used.map((r) => r[side].detail.postgresCpuMsPerTx!));
  ctx.note(
    'rounds used',
    cleanRounds.length
      ? `${used.map((r) => rounds.indexOf(r) + 1).join(', ')} of ${rounds.length}: the rounds where neither side saw more than ${ctx.quietCores} cores of other work`
      : `all ${rounds.length}: no round was free of other work on the machine (see backgroundCoresDuring); treat these figures as noisy`,
  );
  if (!cleanRounds.length) ctx.progress('warning: every round shared the machine with other work; the figures are noisy');

  ctx.configure('placeOrder over HTTP', {
    process: 'the real API (createApi, NODE_ENV=production) in its own process, running only during its own side',
    clients: `${CONCURRENCY} keep-alive HTTP clients, closed loop, in a load-generator process of their own`,
    poolMax: poolMax,
    logLevel: process.env.BENCH_API_LOG_LEVEL ?? 'info',
    statements: 'as the API sends them (named prepared statements on its hot path, src/engine/db/poolMode.ts)',
  });
  ctx.configure('pgbench', {
    clients: CONCURRENCY,
    threads: PGBENCH_THREADS,
    protocol: 'prepared',
    script: 'bench/sql/place-order.pgbench (placeOrder\'s statements, captured with log_statement=all; round 1 checks every side touches the same tables as often)',
  });
  ctx.configure('bare-Node placeOrder', {
    process: 'bench/lib/mutations/bareNodeChild.ts in its own process, running only during its own side: node:http, one postgres.js pool',
    clients: `the same load generator, requests and ${CONCURRENCY} keep-alive clients as placeOrder over HTTP`,
    poolMax,
    statements: 'bench/sql/place-order.pgbench statement for statement (begin, the five set_config, three reads, three inserts, commit), named prepared statements (postgres.js default)',
    leftOut: 'GraphQL parse/validate/execute, schema, drizzle, logging, the realtime hub; the bearer token is decoded, not verified',
  });
  ctx.configure('workload', {
    order: 'a uniformly random demo customer orders the first two menu items of a uniformly random demo restaurant, 1-3 of each',
    reset: 'order tables and event log emptied, vacuumed and checkpointed before each side',
    warmupS: ctx.warmupMs / 1000,
    durationS: ctx.durationMs / 1000,
    rounds: ctx.rounds,
    sideOrder: 'rotating which side goes first, round by round (ours, bare-Node, pgbench)',
  });
  ctx.note(
    'rounds',
    rounds.map((r) => ({
      ...Object.fromEntries(
        SIDES.map((side) => {
          const lat = summarize(r[side].samplesMs);
          return [side, { tps: round(r[side].tps), p50: round(lat.p50), p99: round(lat.p99), ...roundAll(r[side].detail) }];
        }),
      ),
    })),
  );
  ctx.note('PostgreSQL CPU per transaction, ms (median of the rounds used; the whole server, every backend)', {
    placeOrder: round(pgPerTx('ours')),
    bareNode: round(pgPerTx('bare')),
    pgbench: round(pgPerTx('pgbench')),
    measuredAs: 'utime+stime of the postmaster and all its children (/proc, lib/serverCpu.ts) over the measured window, divided by the side\'s transactions in it; it includes the API\'s realtime hub reading the log after each commit, and anything else the server ran meanwhile',
  });
  ctx.note('goals', {
    'placeOrder tps vs bare Node': `>= ${GOAL_VS_BARE}x`,
    'PostgreSQL CPU per placeOrder vs pgbench': `<= ${GOAL_PG_CPU_VS_PGBENCH}x`,
    stretch: 'placeOrder >= 0.5x pgbench (not a metric goal)',
  });
  if (ctx.profileDir) ctx.note('profiled', 'round 1 of placeOrder ran under the V8 profiler (BENCH_CPU_PROF): its figures are a little low');
  if (extended) {
    const lat = summarize(extended.samplesMs);
    ctx.note('pgbench -M extended (round 1 only, not a metric)', { tps: round(extended.tps), p50: round(lat.p50), p99: round(lat.p99) });
  }
  ctx.note(
    'how to read',
    'tps: median of the rounds used; latency: the median over the rounds used of each round\'s nearest-rank p50 and p99, ms (notes.rules); ratio = ours / the baseline named (>1 is slower for latency); cores: CPU used during the measured window (2 = the whole machine); serverCores: the API or the bare-Node process; *CpuMsPerTx: CPU each party spent per order',
  );

  return [
    metric('placeOrder tps (median of rounds)', oursTps, 'tx/s', { name: 'pgbench place-order tps', value: pgTps }),
    metric('placeOrder tps vs bare Node (median of rounds)', oursTps, 'tx/s', { name: 'bare-Node place-order tps', value: bareTps }, { goal: (m) => ({ bar: `ratio >= ${GOAL_VS_BARE}`, met: m.ratio >= GOAL_VS_BARE }) }),
    metric('bare-Node place-order tps (median of rounds)', bareTps, 'tx/s', { name: 'pgbench place-order tps', value: pgTps }),
    metric('placeOrder p50 latency', oursLat.p50, 'ms', { name: 'pgbench place-order p50', value: pgLat.p50 }),
    metric('placeOrder p99 latency', oursLat.p99, 'ms', { name: 'pgbench place-order p99', value: pgLat.p99 }),
    metric('placeOrder p50 latency vs bare Node', oursLat.p50, 'ms', { name: 'bare-Node place-order p50', value: bareLat.p50 }),
    metric('placeOrder p99 latency vs bare Node', oursLat.p99, 'ms', { name: 'bare-Node place-order p99', value: bareLat.p99 }),
    metric('PostgreSQL CPU per placeOrder', pgPerTx('ours'), 'ms', { name: 'PostgreSQL CPU per pgbench transaction', value: pgPerTx('pgbench') }, { goal: ratioGoal(GOAL_PG_CPU_VS_PGBENCH) }),
    metric('PostgreSQL CPU per bare-Node placeOrder', pgPerTx('bare'), 'ms', { name: 'PostgreSQL CPU per pgbench transaction', value: pgPerTx('pgbench') }),
  ];
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, 3)]));
}

function withoutEventReads(access: TableAccess): TableAccess {
  const events = access.events;
  return events ? { ...access, events: { ...events, scans: 0 } } : access;
}
