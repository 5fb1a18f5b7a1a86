/**
 * Durability under SIGKILL (issue 15), with real processes: the food-delivery
 * API (`start`, API alone), its handler functions (`handlers`, charging and
 * refunding through the HTTP recording payment provider, behind a proxy so a
 * new handlers process can take over) and `dispatch` processes running the
 * order-fulfilment workflow with a 4 s approval timeout. 500 orders are paid
 * over the whole run, a share before each kill (each `order.paid` starts an
 * instance); their restaurant approves some (a driver is assigned:
 * completed), declines some, their customer cancels some, soon after the
 * payment, and the rest are never answered (the timeout declines them);
 * every one not approved is refunded by the start's compensation. Meanwhile
 * a dispatcher is SIGKILLed 20 times, alternately mid-step (one of its step
 * deliveries in flight) and between steps (a step's end signalled, the
 * next step not started); twice every dispatcher at once, and every fourth time
 * the handlers process too (a step killed between its provider call and its
 * write-back).
 *
 * None lost: every instance ends terminal, every order driver_assigned or
 * refunded. No effect twice: one refund idempotency key per order at the
 * provider (the compensation step's id), one refund made, one
 * refund.succeeded, one decline; no provider call for a step after
 * workflow_steps recorded its completion; each step completed at most once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { ORDER_FULFILMENT } from '../../src/apps/food-delivery/workflows/orderFulfilment.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { started as dispatcherStarted, spawnDispatcher } from '../support/dispatcherProcess.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { ids, seeded } from '../support/orders.js';
import { startRecordingProvider, type RecordingProvider } from '../support/paymentProvider.js';
import { commandEnv, runCommand, type CommandProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { byStatus, callsAfterCompletion, instances, Processes, steps, switchableProxy, type SwitchableProxy } from '../support/workflowRuns.js';

/** DURABILITY_ORDERS / DURABILITY_KILLS shrink a run while debugging it; DURABILITY_TRACE=1 prints each kill. */
const ORDERS = Number(process.env.DURABILITY_ORDERS ?? 500);
const KILLS = Number(process.env.DURABILITY_KILLS ?? 20);
const trace = (...what: unknown[]) => process.env.DURABILITY_TRACE && process.stderr.write(`${new Date().toISOString()} ${what.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))).join(' ')}\n`);

let db: TestDatabase;
let provider: RecordingProvider;
let apiUrl: string;
/** In front of the handlers process, so a new one can take over the address of one about to be killed. */
let handlersProxy: SwitchableProxy;
const procs = new Processes();
/** Set when the test ends, however it ends (a timeout does not run its finally), before the database goes. */
const background = { stop: false };

beforeAll(async () => {
  db = await freshDatabase({ max: 4 });
  await seeded(db);
  provider = await startRecordingProvider();
  const api = procs.add(runCommand(['start'], commandEnv(urlFor(db.name), { WEBHOOK_SECRET: TEST_WEBHOOK_SECRET })));
  apiUrl = String((await api.waitForLog((l) => l.msg === 'api listening', 30_000)).url);
}, 60_000);
afterAll(async () => {
  background.stop = true;
  await procs.endAll();
  await handlersProxy?.close();
  await provider?.close();
  await db?.drop();
});

/** A handlers process, listening (on a port of its own; `handlersProxy` is pointed at it by the caller). */
async function startHandlers(): Promise<{ proc: CommandProcess; port: number }> {
  const proc = procs.add(
    runCommand(['handlers'], {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      HANDLERS_PORT: '0',
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      AUTH_JWT_SECRET: TEST_SECRET,
      API_URL: apiUrl,
      PAYMENT_PROVIDER_URL: provider.url,
    }),
  );
  const listening = await proc.waitForLog((l) => l.msg === 'handlers listening', 30_000);
  return { proc, port: Number(listening.port) };
}

/** The same env every time: the timeouts are part of the stored definition (another value would be refused at sync). */
function spawnDispatch(): CommandProcess {
  const fn = (name: string) => `http://127.0.0.1:${handlersProxy.port}/${name}`;
  return procs.add(
    spawnDispatcher({
      DATABASE_URL: urlFor(db.name),
      LOG_LEVEL: 'info',
      ORDER_APPROVAL_TIMEOUT_SEC: '4',
      // Long: a driver is always free; a timeout firing while a late assignment lands is another test's race.
      DRIVER_ASSIGNMENT_TIMEOUT_SEC: '60',
      VALIDATE_ORDER_URL: fn('validate-order'),
      CHARGE_PAYMENT_URL: fn('charge-payment'),
      DECLINE_UNANSWERED_URL: fn('decline-unanswered'),
      ASSIGN_DRIVER_URL: fn('assign-driver'),
      REFUND_PAYMENT_URL: fn('refund-payment'),
      DISPATCH_LEASE_MS: '2000',
    }),
  );
}

async function gql(query: string, variables: Record<string, unknown>, token: string): Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as never;
}

const PAY_RESULT = 'mutation($paymentId: ID!, $ref: String) { recordPaymentResult(paymentId: $paymentId, succeeded: true, providerRef: $ref) { status } }';
const ACTIONS = {
  approve: { query: 'mutation($orderId: ID!) { approveOrder(orderId: $orderId) { status } }', who: 'napoli' },
  decline: { query: 'mutation($orderId: ID!) { declineOrder(orderId: $orderId, reason: "out of dough") { status } }', who: 'napoli' },
  cancel: { query: 'mutation($orderId: ID!) { cancelOrder(orderId: $orderId) { status } }', who: 'alice' },
} as const;
type Action = keyof typeof ACTIONS;
/** Of every ten orders: three declined, one cancelled, two approved, four never answered (the timeout declines them). */
const actionFor = (n: number): Action | null => (['decline', 'decline', 'decline', 'cancel', 'approve', 'approve', null, null, null, null] as const)[n % 10]!;

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('durability under SIGKILL', () => {
  it(`loses none of ${ORDERS} instances and applies no step's effect twice while the dispatcher is SIGKILLed ${KILLS} times`, async () => {
    const began = Date.now();
    const tokens = {
      service: await mintToken(TEST_SECRET, { role: 'service', sub: 'payment-handler' }),
      napoli: await mintToken(TEST_SECRET, { role: 'restaurant', sub: ids.napoli }),
      alice: await mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice }),
    };
    let handlers = await startHandlers();
    let nextHandlers = startHandlers();
    handlersProxy = await switchableProxy(handlers.port);
    const dispatcher = spawnDispatch();
    await dispatcher.waitForLog(dispatcherStarted, 30_000);

    // Validated orders, each with its charge pending: the charge's write-back (below, over the API) pays them.
    const rows = await db.sql<{ order_id: string; payment_id: string }[]>`
      with o as (
        insert into orders (customer_id, restaurant_id, status, total_cents, delivery_address, version)
        select ${ids.alice}, ${ids.napoli}, 'validated', 950, n || ' Durable St', 2 from generate_series(1, ${ORDERS}) as n
        returning id
      )
      insert into payments (order_id, amount_cents) select id, 950 from o returning order_id, id as payment_id`;
    const orderIds = rows.map((r) => r.order_id);
    const action = new Map(orderIds.map((id, n) => [id, actionFor(n)]));
    const outcomes = { applied: 0, lost: 0 };
    /** Paid orders whose restaurant or customer is to answer (see actionFor). */
    const toAct: string[] = [];

    // Paid a share before each kill, so that every kill lands while instances start, wait, call and compensate.
    const payBatch = (k: number) => {
      const share = rows.slice(Math.round(((k - 1) * ORDERS) / KILLS), Math.round((k * ORDERS) / KILLS));
      return pool(share, 4, async (r) => {
        const res = await gql(PAY_RESULT, { paymentId: r.payment_id, ref: `ch_${r.payment_id}` }, tokens.service);
        if (res.errors) throw new Error(`recordPaymentResult: ${JSON.stringify(res.errors)}`);
        if (action.get(r.order_id)) toAct.push(r.order_id);
      });
    };
    const paid: Array<Promise<void>> = [];

    // The restaurant and the customer answer soon after the payment: before, or after, the instance reached its wait.
    const actors = (async () => {
      while (!background.stop) {
        const due = toAct.splice(0);
        await pool(due, 4, async (orderId) => {
          const { query, who } = ACTIONS[action.get(orderId)!];
          const res = await gql(query, { orderId }, tokens[who]);
          // Losing to the approval timeout (the order was declined meanwhile) is a legal outcome: nothing written.
          if (res.errors?.[0]?.extensions?.code === 'ILLEGAL_TRANSITION') outcomes.lost++;
          else if (res.errors) throw new Error(`${action.get(orderId)}: ${JSON.stringify(res.errors)}`);
          else outcomes.applied++;
        });
        await sleep(100);
      }
    })();

    // Dispatchers are started ahead (a start takes seconds of CPU here), up to four running or starting. The victim is
    // whichever running one first has a step call in flight (odd kills), or the oldest once a step's end is signalled
    // and not yet advanced on (even kills); every tenth kill takes down every dispatcher at once (a while with none
    // up). Every fourth, the handlers process dies with it.
    const kills = { midStep: 0, betweenSteps: 0, allAtOnce: 0, withHandlers: 0, idle: 0 };
    const killedAt: number[] = [];
    /** Instances not finished right after each kill: the kills land while they run. */
    const unfinishedAtKill: number[] = [];
    const live: Array<{ proc: CommandProcess; id: string }> = [];
    const warming = new Set<Promise<void>>();
    const startFailures: string[] = [];
    const warm = () => {
      const proc = spawnDispatch();
      const spawnedAt = Date.now();
      const ready: Promise<void> = proc
        .waitForLog(dispatcherStarted, 30_000)
        .then(
          (line) => {
            live.push({ proc, id: String(line.dispatcherId) });
            trace('dispatcher up in', Date.now() - spawnedAt, 'ms');
          },
          (err: unknown) => void startFailures.push(String(err)),
        )
        .finally(() => warming.delete(ready));
      warming.add(ready);
    };
    live.push({ proc: dispatcher, id: String(dispatcher.logs.find(dispatcherStarted)!.dispatcherId) });
    try {
      for (let k = 1; k <= KILLS; k++) {
        const allAtOnce = k % 10 === 0;
        paid.push(payBatch(k));
        // The share before has been paid (its instances started) by now: the kills cannot outrun the payments, which
        // under load (dispatchers starting take the CPU) would bunch the last kills before the last instances began.
        if (k > 1) await paid[k - 2];
        while (live.length + warming.size < 4) warm();
        // Another dispatcher up besides the victim (but for an all-at-once kill): the work goes on elsewhere meanwhile.
        await waitFor(() => live.length > 0 || startFailures.length > 0, 'a dispatcher up', 30_000);
        // Preferably one more, which goes on working after the kill (progress between the kills), if it comes soon.
        if (!allAtOnce) await waitFor(() => live.length > 1, 'a second dispatcher up', 3_000).catch(() => {});
        expect(startFailures).toEqual([]);
        const midStep = k % 2 === 1;
        let victim = live[0]!;
        try {
          if (midStep) {
            // One of its step calls is in flight: leased to it, the handler answering.
            await waitFor(async () => {
              const [row] = await db.sql<{ locked_by: string }[]>`
                select locked_by from threefactor.deliveries
                where status = 'running' and trigger_name like 'workflow.%' and locked_by = any(${live.map((d) => d.id)}) limit 1`;
              victim = live.find((d) => d.id === row?.locked_by) ?? victim;
              return row !== undefined;
            }, 'a step call in flight', 4_000);
            kills.midStep++;
          } else {
            // Between steps: a step's end is signalled (its delivery settled, or the event its wait took), the next step
            // not started yet: the runners have that instance still to advance.
            await waitFor(async () => {
              const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.workflow_signals`;
              return row!.n > 0;
            }, 'a signal not yet taken up', 4_000);
            kills.betweenSteps++;
          }
        } catch {
          kills.idle++;
        }
        const victims = allAtOnce ? live.splice(0) : live.splice(live.indexOf(victim), 1);
        await Promise.all(victims.map((v) => procs.kill(v.proc)));
        if (allAtOnce) kills.allAtOnce++;
        killedAt.push(Date.now() - began);
        if (k % 4 === 0) {
          kills.withHandlers++;
          // Its successor (started ahead) takes the address first; the calls in flight in the old one die with it.
          const next = await nextHandlers;
          handlersProxy.retarget(next.port);
          await procs.kill(handlers.proc);
          handlers = next;
          nextHandlers = startHandlers();
        }
        const [open] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.workflow_instances where finished_at is null`;
        unfinishedAtKill.push(open!.n);
        trace('kill', k, kills, { unfinished: open!.n }, outcomes);
      }
      const killsDoneAt = Date.now() - began;

      await Promise.all(paid);
      await waitFor(async () => {
        const all = await instances(db.sql, ORDER_FULFILMENT);
        return all.length === ORDERS && all.every((i) => i.status === 'completed' || i.status === 'compensated' || i.status === 'failed');
      }, 'every instance terminal', 60_000).catch(async (err: unknown) => {
        const stuck = await db.sql`
          select i.status, i.phase, i.step_index, s.name, s.status as step_status, d.status as delivery, d.attempts, d.run_at, d.last_error
          from threefactor.workflow_instances as i
          left join threefactor.workflow_steps as s on s.id = i.current_step
          left join threefactor.deliveries as d on d.id = s.delivery_id
          where i.finished_at is null limit 5`;
        throw new Error(`${String(err)}: ${JSON.stringify(byStatus(await instances(db.sql, ORDER_FULFILMENT)))}; e.g. ${JSON.stringify(stuck)}`);
      });
      background.stop = true;
      await actors;
      const doneAt = Date.now() - began;

      // None lost.
      const all = await instances(db.sql, ORDER_FULFILMENT);
      expect(all).toHaveLength(ORDERS);
      expect(new Set(all.map((i) => i.key))).toEqual(new Set(orderIds));
      const statuses = byStatus(all);
      const orders = await db.sql<{ id: string; status: string; status_reason: string | null; refund_key: string | null; payment_status: string }[]>`
        select o.id, o.status, o.status_reason, p.refund_key, p.status as payment_status
        from orders as o join payments as p on p.order_id = o.id`;
      expect(orders).toHaveLength(ORDERS);
      const instanceOf = new Map(all.map((i) => [i.key, i]));
      let lateAssignments = 0;
      for (const o of orders) {
        const i = instanceOf.get(o.id)!;
        if (o.status === 'driver_assigned') {
          expect(action.get(o.id)).toBe('approve');
          expect(o.payment_status).toBe('succeeded');
          // Never reserved for a refund: no money moved for an order a driver brings.
          expect(o.refund_key).toBeNull();
          if (i.status === 'compensated') {
            // A late assignment (a race of the definition, not of durability): the assignment outlived its step's
            // timeout (retries delayed by the kills) and landed before the refund reserved the order, so the refund
            // left it (not-refunded). The money is right: charged once, not refunded, and the order goes ahead.
            expect({ failure: i.failure, phase: i.phase, step: i.step_index }).toEqual({ failure: { step: 'assign-driver', reason: 'timeout' }, phase: 'compensate', step: -1 });
            lateAssignments++;
          } else expect(i.status).toBe('completed');
        } else {
          expect({ order: o.status, instance: i.status }).toEqual({ order: 'refunded', instance: 'compensated' });
          expect(o.payment_status).toBe('refunded');
          expect(['declined', 'restaurant_timeout', 'customer_cancel', 'no_driver']).toContain(o.status_reason);
        }
      }

      // No effect twice: each step completed at most once, and the refund once, under one key: its compensation step's id.
      const history = await steps(db.sql, ORDER_FULFILMENT);
      const completedTwice = new Map<string, number>();
      for (const s of history.filter((s) => s.status === 'completed')) {
        const at = `${s.instance_id}/${s.phase}/${s.step_index}/${s.kind}`;
        completedTwice.set(at, (completedTwice.get(at) ?? 0) + 1);
      }
      expect([...completedTwice].filter(([, n]) => n > 1)).toEqual([]);
      const refunds = provider.calls.filter((c) => c.kind === 'refund');
      const keysByOrder = new Map<string, Set<string>>();
      for (const c of refunds) keysByOrder.set(c.orderId!, (keysByOrder.get(c.orderId!) ?? new Set()).add(c.key!));
      const refunded = orders.filter((o) => o.status === 'refunded');
      expect([...keysByOrder].filter(([, keys]) => keys.size !== 1)).toEqual([]);
      expect(new Set(keysByOrder.keys())).toEqual(new Set(refunded.map((o) => o.id)));
      expect(provider.refundsMade()).toHaveLength(refunded.length);
      const stepById = new Map(history.map((s) => [s.id, s]));
      for (const o of refunded) {
        const [key] = [...keysByOrder.get(o.id)!];
        const step = stepById.get(key!);
        expect(step, `refund key ${key} of order ${o.id} is a step id`).toMatchObject({ instance_id: instanceOf.get(o.id)!.id, name: '$start', phase: 'compensate', status: 'completed' });
        expect(o.refund_key).toBe(key);
      }
      const [events] = await db.sql<{ refunds: number; twice: number; declinedTwice: number }[]>`
        select count(*) filter (where type = 'refund.succeeded')::int as refunds,
               (select count(*)::int from (select aggregate_id from threefactor.events where type = 'refund.succeeded' group by 1 having count(*) > 1) as t) as twice,
               (select count(*)::int from (select aggregate_id from threefactor.events where type = 'order.declined' group by 1 having count(*) > 1) as t) as "declinedTwice"
        from threefactor.events`;
      expect(events).toEqual({ refunds: refunded.length, twice: 0, declinedTwice: 0 });
      expect(callsAfterCompletion(refunds, history)).toEqual([]);

      // The kills happened while the work ran: mostly at a moment that meant something, and before most of it ended.
      expect(kills.midStep + kills.betweenSteps, JSON.stringify(kills)).toBeGreaterThanOrEqual(KILLS - 2);
      const [{ finishedBeforeKills, startedBeforeLastKill }] = await db.sql<[{ finishedBeforeKills: number; startedBeforeLastKill: number }]>`
        select count(*) filter (where finished_at <= ${new Date(began + killsDoneAt)})::int as "finishedBeforeKills",
               count(*) filter (where created_at <= ${new Date(began + killedAt.at(-1)!)})::int as "startedBeforeLastKill"
        from threefactor.workflow_instances`;
      console.info(JSON.stringify({ kills, killedAt, unfinishedAtKill, killsDoneAt, doneAt, finishedBeforeKills, startedBeforeLastKill, statuses, lateAssignments, outcomes, refunds: refunds.length, refundsMade: provider.refundsMade().length }));
      expect(finishedBeforeKills).toBeLessThan(ORDERS);
      expect(unfinishedAtKill.filter((n) => n === 0)).toEqual([]);
      expect(startedBeforeLastKill).toBeGreaterThan(ORDERS * 0.9);
    } finally {
      background.stop = true;
      await Promise.allSettled([...paid, actors, nextHandlers]);
    }
  }, 180_000);
});
