/**
 * `mutations`: placeOrder throughput and latency over real HTTP (32
 * concurrent keep-alive clients against the API in its own process) against
 * the same SQL transaction driven by pgbench with 32 clients, in alternating
 * rounds on the same database. ratio = ours / pgbench.
 *
 * Workload, identical on both sides (see bench/sql/place-order.pgbench): a
 * uniformly random demo customer orders the first two menu items of a
 * uniformly random demo restaurant, 1–3 of each. Before each side the order
 * tables and the event log are emptied and vacuumed, so neither side inherits
 * the other's table growth. The API process runs only during its own side.
 * Both sides are audited: the rows written must
 * match the menu and each other, and in round 1 the per-order table accesses
 * (pg_stat_user_tables) of both sides must be equal.
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
import { machineCoresBusy, machineSample, type CpuSample, type MachineSample } from '../lib/cpu.js';
import { runHttpLoad, type HttpRequestSpec } from '../lib/httpLoad.js';
import { runPgbench } from '../lib/pgbench.js';
import { serverCpu } from '../lib/serverCpu.js';
import { accessDifferences, accessPer, settledAccess, tableAccess, type TableAccess } from '../lib/tableAccess.js';
import { metric, type Metric } from '../lib/report.js';
import { latencyOverRounds, median, round, summarize } from '../lib/stats.js';

export const description = 'placeOrder over HTTP, 32 keep-alive clients, vs the same transaction in pgbench (tps, p50/p99)';

const CONCURRENCY = 32;
const PGBENCH_THREADS = 2;
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../sql/place-order.pgbench');
const DELIVERY_ADDRESS = '1 Benchmark Row';

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
  ctx.progress(`${ctx.rounds} round(s) of ${ctx.warmupMs / 1000}+${ctx.durationMs / 1000} s per side`);

  const pgCpu = await serverCpu(sql);
  const cores = os.cpus().length;
  /** CPU per transaction, ms: what each party spent on one order. */
  const perTx = (coresUsed: number, tps: number) => (coresUsed * 1000) / tps;

  const ours = async (profile: string | undefined): Promise<Side> => {
    const api = await startApi();
    let apiFrom: CpuSample | undefined;
    let machineFrom: MachineSample | undefined;
    let pgFrom = Number.NaN;
    let windowFrom = 0;
    let apiCores = Number.NaN;
    let machineCores = Number.NaN;
    let postgresCores = Number.NaN;
    const result = await runHttpLoad(
      { url: api.url, requests, concurrency: CONCURRENCY, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, failIfBodyIncludes: '"errors"' },
      {
        onWindowStart: async () => {
          [apiFrom, machineFrom, pgFrom] = await Promise.all([api.cpu(), machineSample(), pgCpu.sample()]);
          windowFrom = performance.now();
          if (profile) await api.startProfile();
        },
        onWindowEnd: async () => {
          if (profile) ctx.progress(`API CPU profile of the window: ${await api.stopProfile(profile)}`);
          const [a, m, p] = await Promise.all([api.cores(apiFrom!), machineSample(), pgCpu.sample()]);
          const wallUs = (performance.now() - windowFrom) * 1000;
          [apiCores, machineCores, postgresCores] = [a, machineCoresBusy(machineFrom, m, cores), (p - pgFrom) / wallUs];
        },
      },
    );
    await api.stop();
    if (result.failed) throw new Error(`${result.failed} placeOrder requests failed; first: ${result.firstFailure}`);
    const tps = result.rps;
    return {
      tps,
      // The probe order counts: it was written after the side's reset.
      work: result.succeeded + 1,
      samplesMs: result.samplesMs,
      detail: {
        machineCores,
        postgresCores,
        apiCores,
        loadGeneratorCores: result.clientCores,
        backgroundCoresDuring: machineCores - postgresCores - apiCores - result.clientCores,
        postgresCpuMsPerTx: perTx(postgresCores, tps),
        apiCpuMsPerTx: perTx(apiCores, tps),
        loadGeneratorCpuMsPerTx: perTx(result.clientCores, tps),
      },
    };
  };

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

  const rounds: Array<{ ours: Side; pgbench: Side }> = [];
  // Table accesses per order of each side in round 1: they must match, or the script has drifted from placeOrder.
  const access: Partial<Record<'ours' | 'pgbench', TableAccess>> = {};
  let extended: Side | undefined;
  for (let r = 0; r < ctx.rounds; r++) {
    // Alternate which side goes first, so neither always runs on a warmer (or more tired) machine.
    // The first round also runs pgbench with unnamed statements (-M extended), for the notes only:
    // it shows how much of the gap is the protocol rather than the stack.
    const order = r % 2 === 0 ? (['ours', 'pgbench'] as const) : (['pgbench', 'ours'] as const);
    const current: Partial<{ ours: Side; pgbench: Side }> = {};
    for (const side of r === 0 ? [...order, 'pgbench-extended' as const] : order) {
      await reset();
      // Other work on the machine skews a side: wait for a quiet moment, and record what was seen.
      const { backgroundCores } = await ctx.quiet();
      const accessBefore = r === 0 ? await tableAccess(sql) : undefined;
      ctx.progress(`round ${r + 1}/${ctx.rounds}: ${side === 'ours' ? 'placeOrder over HTTP' : side} (background load before it: ${backgroundCores.toFixed(2)} cores) …`);
      const profile = ctx.profileDir && r === 0 ? path.join(ctx.profileDir, 'api-placeOrder.cpuprofile') : undefined;
      const measured = side === 'ours' ? await ours(profile) : await baseline(side === 'pgbench' ? 'prepared' : 'extended');
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
    rounds.push(current as { ours: Side; pgbench: Side });
    if (r === 0) {
      // The API's realtime hub reads the event log after every commit; pgbench has no such reader.
      const hubReads = access.ours!.events?.scans ?? 0;
      const drift = accessDifferences(withoutEventReads(access.ours!), withoutEventReads(access.pgbench!));
      if (drift.length) throw new Error(`bench/sql/place-order.pgbench no longer does what placeOrder does (ours vs pgbench):\n  ${drift.join('\n  ')}`);
      ctx.note('table accesses per order (both sides, round 1; event-log reads are the API realtime hub only)', access.ours);
      ctx.note('realtime hub reads of the event log per order (ours only)', hubReads);
    }
  }

  // Other work on this shared machine can start in the middle of a side. A round is clean when neither
  // side saw more than the quiet bar of foreign CPU; the figures come from clean rounds when there are any.
  const clean = (side: Side) => !(side.detail.backgroundCoresDuring! > ctx.quietCores);
  const cleanRounds = rounds.filter((r) => clean(r.ours) && clean(r.pgbench));
  const used = cleanRounds.length ? cleanRounds : rounds;
  const oursLat = latencyOverRounds(used.map((r) => r.ours.samplesMs));
  const pgLat = latencyOverRounds(used.map((r) => r.pgbench.samplesMs));
  const oursTps = median(used.map((r) => r.ours.tps));
  const pgTps = median(used.map((r) => r.pgbench.tps));
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
    script: 'bench/sql/place-order.pgbench (placeOrder\'s statements, captured with log_statement=all; round 1 checks both sides touch the same tables as often)',
  });
  ctx.configure('workload', {
    order: 'a uniformly random demo customer orders the first two menu items of a uniformly random demo restaurant, 1-3 of each',
    reset: 'order tables and event log emptied, vacuumed and checkpointed before each side',
    warmupS: ctx.warmupMs / 1000,
    durationS: ctx.durationMs / 1000,
    rounds: ctx.rounds,
    sideOrder: 'alternating which side goes first, round by round',
  });
  ctx.note(
    'rounds',
    rounds.map((r) => ({
      ours: { tps: round(r.ours.tps), p50: round(summarize(r.ours.samplesMs).p50), p99: round(summarize(r.ours.samplesMs).p99), ...roundAll(r.ours.detail) },
      pgbench: { tps: round(r.pgbench.tps), p50: round(summarize(r.pgbench.samplesMs).p50), p99: round(summarize(r.pgbench.samplesMs).p99), ...roundAll(r.pgbench.detail) },
    })),
  );
  if (ctx.profileDir) ctx.note('profiled', 'round 1 of placeOrder ran under the V8 profiler (BENCH_CPU_PROF): its figures are a little low');
  if (extended) {
    const lat = summarize(extended.samplesMs);
    ctx.note('pgbench -M extended (round 1 only, not a metric)', { tps: round(extended.tps), p50: round(lat.p50), p99: round(lat.p99) });
  }
  ctx.note(
    'how to read',
    'tps: median of the rounds used; latency: the median over the rounds used of each round\'s nearest-rank p50 and p99, ms (notes.rules); ratio = ours / pgbench (>1 is slower for latency); cores: CPU used during the measured window (2 = the whole machine); *CpuMsPerTx: CPU each party spent per order',
  );

  return [
    metric('placeOrder tps (median of rounds)', oursTps, 'tx/s', { name: 'pgbench place-order tps', value: pgTps }),
    metric('placeOrder p50 latency', oursLat.p50, 'ms', { name: 'pgbench place-order p50', value: pgLat.p50 }),
    metric('placeOrder p99 latency', oursLat.p99, 'ms', { name: 'pgbench place-order p99', value: pgLat.p99 }),
  ];
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, 3)]));
}

function withoutEventReads(access: TableAccess): TableAccess {
  const events = access.events;
  return events ? { ...access, events: { ...events, scans: 0 } } : access;
}
