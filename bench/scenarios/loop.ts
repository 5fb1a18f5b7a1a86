/**
 * `loop`: the whole automated chain of an order, as a graphql-ws subscriber
 * sees it, with the API, the dispatcher and the handler functions as
 * separate processes over HTTP, against the same hops as direct function
 * calls in the same run.
 *
 * The order runs as the app runs it: validate-order and charge-payment are
 * broker triggers; from order.paid on, the order-fulfilment workflow owns it
 * (started in order.paid's transaction, its wait for order.approved
 * registered there too), and assign-driver is that workflow's step, called
 * by the dispatcher's workflow runner once the approval signals the wait.
 *
 * The clients (lib/loop/clientsChild.ts, a process of their own) place
 * orders open loop at BENCH_LOOP_RATES (1 and 50 orders/s), pay each as soon
 * as the restaurant feed shows it validated (the customer) and approve it as
 * soon as it shows it paid (the restaurant: by then the instance is waiting
 * for the approval, or has it registered ahead, so the approval is never
 * missed). The figure is, per order, the sum of the three automated hops,
 * each timed from the HTTP response of the mutation that starts it (its
 * commit acknowledged) to the feed showing its result: placeOrder →
 * validated, payOrder → paid, approveOrder → driver assigned (the wait's
 * signal, the runner's advance and the step's delivery included); p50 and
 * p99 per round, the median over rounds.
 *
 * - chain (ours): the real API (`ctx.startApi`: createApi, production), and
 *   `dispatch` and `handlers` started as an operator starts them
 *   (`node --import tsx src/cli/main.ts …`, NODE_ENV=production, every
 *   function's URL variable set, webhooks signed with a WEBHOOK_SECRET, the
 *   handlers writing back to the API with a SERVICE_TOKEN); every process's
 *   default settings.
 * - direct (baseline): the same API and clients, no dispatcher, no handlers
 *   process, no event triggers and no workflow definitions (so no delivery
 *   rows and no instances): when a mutation answers, the clients read the
 *   event it wrote, build the dispatcher's webhook body from it (for
 *   assign-driver, the body of the step call the runner would make: the
 *   order.paid payload as input, the approval as the wait's result) and call
 *   the handler function through the kit's in-process adapter
 *   (`toInProcess`), in their own process. The choice:
 *   the adapter runs the very function the handlers process serves, with the
 *   same body, the same GraphQL write-back over HTTP and so the same rows and
 *   events written; what the baseline leaves out is exactly the machinery the
 *   chain adds between a commit and a function call (NOTIFY, claim, signed
 *   webhook, completion; for the step, the workflow's start, signal and
 *   advance too). Calling the domain rules directly would also skip
 *   the write-back's HTTP and GraphQL, which the chain cannot avoid, and so
 *   would not compare like with like.
 *
 * Drivers: assignDriver never makes a driver unavailable (the app has no
 * such step), so the three demo drivers are never all taken; the audit
 * checks it: every assign-driver step's delivery succeeded at its first
 * attempt, so no 30 s "no driver" retry is in any figure.
 *
 * Each side runs on emptied tables (orders, the event log and the workflow
 * instances truncated, vacuumed, checkpointed), with its own freshly started
 * processes; sides alternate which goes first, round by round; each waits
 * for a quiet machine. Audit, every side: every order placed reached
 * driver_assigned with its six events and one assignment; chain: per order
 * one validate-order and one charge-payment delivery, and one completed
 * order-fulfilment instance whose assign-driver step (its workflow_steps
 * row, by step name) completed through its delivery; every delivery
 * delivered at the first attempt; direct: no delivery rows, no instances.
 *
 * Goal (issue 14): at 50 orders/s, p50 <= 50 ms and p99 <= 200 ms.
 *
 * Quick check, no record: BENCH_LOOP_RATES=5 BENCH_DURATION_S=3
 * BENCH_WARMUP_S=1 BENCH_ROUNDS=1 BENCH_RESULTS_DIR=/tmp/bench.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { allHandlers, assignDriver } from '../../src/apps/food-delivery/handlers/index.js';
import { urlEnvFor } from '../../src/apps/food-delivery/handlers/triggers.js';
import { ORDER_FULFILMENT, orderFulfilment } from '../../src/apps/food-delivery/workflows/orderFulfilment.js';
import { connect } from '../../src/engine/db/client.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { forkTs, type Child } from '../lib/child.js';
import { startCommand, type CommandProcess } from '../lib/commandProcess.js';
import type { BenchContext } from '../lib/context.js';
import { machineCoresBusy, machineSample } from '../lib/cpu.js';
import { HOPS, type LoopClientsIn, type LoopClientsOut, type LoopMode } from '../lib/loop/protocol.js';
import { metric, valueGoal, type Metric } from '../lib/report.js';
import { serverCpu } from '../lib/serverCpu.js';
import { latencyOverRounds, median, round, summarize } from '../lib/stats.js';

export const description =
  'an order\'s automated chain (placeOrder→validated, payOrder→paid, approve→driver assigned) over API, dispatch and handlers processes, seen on a graphql-ws feed, vs the same hops as direct function calls (1 and 50 orders/s)';

const RATES = (process.env.BENCH_LOOP_RATES ?? '1,50').split(',').map(Number);
const SETTLE_MS = 30_000;
const GOAL_RATE = 50;
const GOAL_P50_MS = 50;
const GOAL_P99_MS = 200;
const CLIENTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib/loop/clientsChild.ts');
const LOG_LEVEL = process.env.BENCH_API_LOG_LEVEL ?? 'info';
/** The order-fulfilment step that calls assign-driver, by its name in the definition (its workflow_steps rows carry it). */
const ASSIGN_STEP = orderFulfilment('webhook').steps.find((st) => st.kind === 'call' && st.handler === assignDriver.name)?.name;

interface SideRun {
  /** Per measured order: the sum of its hops, and each hop, ms. */
  sums: number[];
  hops: [number[], number[], number[]];
  detail: Record<string, number>;
}

export default async function run(ctx: BenchContext): Promise<Metric[]> {
  if (RATES.some((r) => !(r > 0))) throw new Error(`BENCH_LOOP_RATES must be positive numbers, not ${process.env.BENCH_LOOP_RATES}`);
  if (!ASSIGN_STEP) throw new Error(`${ORDER_FULFILMENT} has no step calling ${assignDriver.name}: the loop's last hop is that step`);
  const database = connect(ctx.databaseUrl, { max: 2, applicationName: 'threefactor-bench' });
  ctx.defer(() => database.close());
  await seedDemoData(database.db);
  const { sql } = database;
  const pgCpu = await serverCpu(sql);
  const cores = os.cpus().length;
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const serviceToken = await mintToken(ctx.jwtSecret, { role: 'service', sub: 'handlers' });
  let logs = 0;
  const logFile = (what: string) => path.join(ctx.tmpDir, `${what}-${++logs}.log`);

  const reset = async () => {
    // CASCADE: items, payments, assignments, deliveries and the instances' steps, waits and signals go too; the catalogue and drivers stay.
    await sql`truncate orders, threefactor.events, threefactor.workflow_instances cascade`;
    // No triggers and no workflows: the direct side must write no delivery rows and start no instances; `dispatch` syncs both again at its start.
    await sql`delete from threefactor.event_triggers`;
    await sql`delete from threefactor.workflow_definitions`;
    await sql`vacuum analyze orders, order_items, payments, driver_assignments, threefactor.events, threefactor.deliveries, threefactor.workflow_instances, threefactor.workflow_steps`;
    await sql`checkpoint`.catch(() => {});
  };

  const audit = async (mode: LoopMode, placed: number) => {
    type Counts = 'orders' | 'notAssigned' | 'wrongEvents' | 'deliveries' | 'triggerDeliveries' | 'notDelivered' | 'retried' | 'assignments' | 'instances' | 'notAssignedByStep';
    // An order's assign-driver call is its instance's workflow_steps row of that name, joined to the delivery it made:
    // the step's trigger name is the engine's business, the step name the definition's.
    const [row] = await sql<Array<Record<Counts, number>>>`
      select (select count(*)::int from orders) as orders,
             (select count(*)::int from orders where status <> 'driver_assigned') as "notAssigned",
             (select count(*)::int from orders o where (select count(*) from threefactor.events e where e.aggregate_id = o.id::text) <> 6) as "wrongEvents",
             (select count(*)::int from threefactor.deliveries) as deliveries,
             (select count(*)::int from threefactor.deliveries d where not exists (select 1 from threefactor.workflow_steps s where s.delivery_id = d.id)) as "triggerDeliveries",
             (select count(*)::int from threefactor.deliveries where status <> 'delivered') as "notDelivered",
             (select count(*)::int from threefactor.deliveries where attempts <> 1) as retried,
             (select count(*)::int from driver_assignments) as assignments,
             (select count(*)::int from threefactor.workflow_instances) as instances,
             (select count(*)::int from orders o where (
                select count(*) from threefactor.workflow_instances i
                join threefactor.workflow_steps s on s.instance_id = i.id
                join threefactor.deliveries d on d.id = s.delivery_id
                where i.workflow = ${ORDER_FULFILMENT} and i.key = o.id::text and i.status = 'completed'
                  and s.name = ${ASSIGN_STEP} and s.kind = 'call' and s.status = 'completed' and d.status = 'delivered' and d.attempts = 1) <> 1) as "notAssignedByStep"`;
    const r = row!;
    const chainOk =
      mode === 'chain'
        ? r.triggerDeliveries === 2 * r.orders && r.deliveries === 3 * r.orders && r.instances === r.orders && !r.notAssignedByStep && !r.notDelivered && !r.retried
        : r.deliveries === 0 && r.instances === 0;
    if (r.orders !== placed || r.notAssigned || r.wrongEvents || r.assignments !== r.orders || !chainOk) {
      throw new Error(`loop ${mode}: the chain did not do its work once per order (placed ${placed}): ${JSON.stringify(r)}`);
    }
    return r;
  };

  const side = async (mode: LoopMode, perSecond: number): Promise<SideRun> => {
    await reset();
    const quiet = await ctx.quiet();
    const api = await ctx.startApi();
    let apiStopped = false;
    const stopApi = async () => {
      if (apiStopped) return;
      apiStopped = true;
      await api.stop().catch(() => api.kill());
    };
    const started: CommandProcess[] = [];
    const stopAll = async () => {
      for (const p of started.splice(0).reverse()) await p.stop();
    };
    ctx.defer(stopAll);
    let clients: Child<LoopClientsOut, LoopClientsIn> | undefined;
    try {
      if (mode === 'chain') {
        // Production config asks every command for the API's token secret (loadConfig is shared).
        const env = { NODE_ENV: 'production', LOG_LEVEL, WEBHOOK_SECRET: webhookSecret, AUTH_JWT_SECRET: ctx.jwtSecret, HOST: '127.0.0.1' };
        const handlers = startCommand('handlers', { ...env, HANDLERS_PORT: '0', API_URL: `${api.url}/graphql`, SERVICE_TOKEN: serviceToken }, logFile('handlers'));
        started.push(handlers);
        const { url } = (await handlers.waitForLog('handlers listening')) as { url?: string };
        // Every function's URL, the broker triggers' and the workflow steps': production refuses to start with one unset.
        const urls = Object.fromEntries(allHandlers.map((h) => [urlEnvFor(h.name), `${url}/${h.name}`]));
        const dispatch = startCommand('dispatch', { ...env, DATABASE_URL: ctx.databaseUrl, ...urls }, logFile('dispatch'));
        started.push(dispatch);
        await dispatch.waitForLog('dispatcher started');
      }
      clients = forkTs(CLIENTS, { name: `loop clients (${mode})`, outputFile: logFile('clients'), env: { LOG_LEVEL } });
      const c = clients;
      ctx.defer(async () => {
        c.kill();
        await c.exited;
      });
      clients.send({ type: 'run', mode, apiUrl: api.url, databaseUrl: ctx.databaseUrl, jwtSecret: ctx.jwtSecret, serviceToken, perSecond, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, settleMs: SETTLE_MS });
      await clients.next('subscribed');
      const [apiFrom, pgFrom, machineFrom, ...procFrom] = await Promise.all([api.cpu(), pgCpu.sample(), machineSample(), ...started.map((p) => p.cpuUs())]);
      const t0 = performance.now();
      const done = await clients.next('done');
      const wallUs = (performance.now() - t0) * 1000;
      const [apiCores, pgTo, machineTo, ...procTo] = await Promise.all([api.cores(apiFrom), pgCpu.sample(), machineSample(), ...started.map((p) => p.cpuUs())]);
      const dispatchCores = mode === 'chain' ? (procTo[1]! - procFrom[1]!) / wallUs : 0;
      const handlersCores = mode === 'chain' ? (procTo[0]! - procFrom[0]!) / wallUs : 0;
      if (done.failures) throw new Error(`loop ${mode} at ${perSecond}/s: ${done.failures} client failures; first: ${done.firstFailure}`);
      if (done.unfinished) throw new Error(`loop ${mode} at ${perSecond}/s: ${done.unfinished} of ${done.placed} chains unfinished ${SETTLE_MS / 1000} s after the last placement`);
      await stopAll();
      await stopApi();
      await audit(mode, done.placed);
      const sums = done.measured.map((o) => o.hopsMs[0] + o.hopsMs[1] + o.hopsMs[2]);
      const hops = [0, 1, 2].map((i) => done.measured.map((o) => o.hopsMs[i]!)) as SideRun['hops'];
      const s = summarize(sums);
      const detail = {
        orders: done.placed,
        measured: done.measured.length,
        early: done.early,
        p50Ms: s.p50,
        p99Ms: s.p99,
        maxMs: s.max,
        apiCores,
        dispatchCores,
        handlersCores,
        clientCores: done.clientCores,
        postgresCores: (pgTo - pgFrom) / wallUs,
        machineCores: machineCoresBusy(machineFrom, machineTo, cores),
        backgroundCoresBefore: quiet.backgroundCores,
        clientsLateMs: done.lateMs,
        wallMs: wallUs / 1000,
      };
      ctx.progress(
        `${mode} at ${perSecond}/s: ${done.measured.length} orders measured of ${done.placed}, sum of hops p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms ` +
          `(${HOPS.map((h, i) => `${h} p50 ${summarize(hops[i]!).p50.toFixed(1)}`).join(', ')}); cores: API ${apiCores.toFixed(2)}, dispatch ${dispatchCores.toFixed(2)}, handlers ${handlersCores.toFixed(2)}, PostgreSQL ${detail.postgresCores.toFixed(2)}, clients ${done.clientCores.toFixed(2)}`,
      );
      return { sums, hops, detail };
    } finally {
      clients?.kill();
      await stopAll();
      await stopApi();
    }
  };

  const results = new Map<number, Record<LoopMode, SideRun[]>>(RATES.map((r) => [r, { chain: [], direct: [] }]));
  for (let r = 0; r < ctx.rounds; r++) {
    for (const rate of RATES) {
      const order: LoopMode[] = r % 2 === 0 ? ['chain', 'direct'] : ['direct', 'chain'];
      for (const mode of order) {
        ctx.progress(`round ${r + 1}/${ctx.rounds}: ${mode} at ${rate} orders/s …`);
        results.get(rate)![mode].push(await side(mode, rate));
      }
    }
  }

  ctx.configure('chain: API, dispatch and handlers processes', {
    api: 'the real API (createApi, NODE_ENV=production, its own pool of DATABASE_POOL_MAX) in its own process (lib/apiChild.ts), started for each side',
    dispatch: '`node --import tsx src/cli/main.ts dispatch`, NODE_ENV=production, the defaults (concurrency, batch, poll, pool capped at 5), webhooks to the handlers process signed with WEBHOOK_SECRET',
    handlers: '`node --import tsx src/cli/main.ts handlers`, NODE_ENV=production, every food-delivery function, writing back to the API over HTTP with a SERVICE_TOKEN (role service)',
    triggers: 'the app\'s two webhook triggers (validate-order, charge-payment; ordering by aggregate) and its workflows (order-fulfilment: wait for the approval, then the assign-driver step) as `dispatch` syncs them at its start, each handler a webhook trigger; the workflow runner in the dispatch process',
    logLevel: LOG_LEVEL,
  });
  ctx.configure('direct: the handler functions called in the clients process', {
    api: 'the same API process, started for each side',
    handlers: 'each function through the kit\'s in-process adapter (toInProcess), called by the clients as soon as the mutation starting the hop answers: the event read by id, the dispatcher\'s webhookBody (assign-driver: the step call\'s body, its input the order.paid payload read by the order\'s id), the same GraphQL write-back over HTTP with the same service token',
    triggers: 'none, and no workflow definitions (no delivery rows, no instances, no dispatcher or runner wake-ups)',
    logLevel: LOG_LEVEL,
  });
  ctx.configure('workload', {
    rates: RATES,
    clients: 'one process: the customers (3 demo customers; place, then pay on "validated") and the restaurants (3; approve on "paid") over keep-alive HTTP, and one restaurantOrders graphql-ws feed per restaurant, each with its own subscription id',
    order: 'a random demo customer orders the first two menu items of a random demo restaurant, 1-3 of each (always valid, always charged)',
    drivers: 'the 3 demo drivers; assignment never makes one unavailable, and the audit checks no assign-driver step\'s delivery was retried',
    hop: 'from the HTTP response of the mutation starting it to the feed showing its result; an order\'s figure is the sum of its three hops',
    measured: 'orders placed in the last durationS of each side (placed open loop for warmupS + durationS)',
    settleS: SETTLE_MS / 1000,
    reset: 'orders, the event log and the workflow instances truncated, triggers and workflow definitions removed, vacuumed and checkpointed before each side; fresh processes per side',
    sideOrder: 'alternating which side goes first, round by round',
    warmupS: ctx.warmupMs / 1000,
    durationS: ctx.durationMs / 1000,
    rounds: ctx.rounds,
  });

  const metrics: Metric[] = [];
  const perRate: Record<string, unknown> = {};
  for (const rate of RATES) {
    const { chain, direct } = results.get(rate)!;
    const ours = latencyOverRounds(chain.map((s) => s.sums));
    const base = latencyOverRounds(direct.map((s) => s.sums));
    const goals = rate === GOAL_RATE;
    metrics.push(
      metric(`sum of automated hops p50 at ${rate} orders/s`, ours.p50, 'ms', { name: `the same hops as direct calls p50 at ${rate}/s`, value: base.p50 }, goals ? { goal: valueGoal({ max: GOAL_P50_MS }) } : {}),
      metric(`sum of automated hops p99 at ${rate} orders/s`, ours.p99, 'ms', { name: `the same hops as direct calls p99 at ${rate}/s`, value: base.p99 }, goals ? { goal: valueGoal({ max: GOAL_P99_MS }) } : {}),
    );
    const hopFigures = (sides: SideRun[]) =>
      Object.fromEntries(HOPS.map((h, i) => [h, (({ p50, p99 }) => ({ p50: round(p50), p99: round(p99) }))(latencyOverRounds(sides.map((s) => s.hops[i]!)))]));
    /** A process's CPU over the side (cores × wall) per order placed, ms: the median over rounds. */
    const perOrder = (sides: SideRun[], key: string) => round(median(sides.map((s) => (s.detail[key]! * s.detail.wallMs!) / s.detail.orders!)));
    perRate[`${rate} orders/s`] = {
      chain: { sumMs: { p50: round(ours.p50), p99: round(ours.p99) }, hopsMs: hopFigures(chain), rounds: chain.map((s) => roundAll(s.detail)) },
      direct: { sumMs: { p50: round(base.p50), p99: round(base.p99) }, hopsMs: hopFigures(direct), rounds: direct.map((s) => roundAll(s.detail)) },
      cpuMsPerOrder: Object.fromEntries(
        (['apiCores', 'dispatchCores', 'handlersCores', 'clientCores', 'postgresCores'] as const).map((k) => [k.replace('Cores', ''), { chain: perOrder(chain, k), direct: perOrder(direct, k) }]),
      ),
    };
  }
  ctx.note('by rate', perRate);
  ctx.note('goals', { [`at ${GOAL_RATE} orders/s`]: `p50 <= ${GOAL_P50_MS} ms and p99 <= ${GOAL_P99_MS} ms (sum of the three hops)`, measuredAt: RATES });
  ctx.note('how to read', 'value: the chain (API, dispatch and handlers processes); baseline: the same hops as direct calls in the clients process; ms per order are the sums of the three hops (per-hop figures under "by rate"); cpuMsPerOrder: each process\'s CPU over the side divided by orders placed (the median over rounds)');
  return metrics;
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, 3)]));
}
