/**
 * Benchmark child: the `loop` scenario's clients, in a process of their own.
 * They play the customer (place an order, pay once it is validated) and the
 * restaurant (approve once it is paid), over HTTP on keep-alive sockets, and
 * watch every order on the restaurants' `restaurantOrders` feeds (one
 * graphql-ws socket per demo restaurant, each with its own subscription id).
 * A feed carries changes from the moment it is subscribed, so it sees an
 * order's first change however soon it follows the placement.
 *
 * Each hop is timed here, on one clock: from the HTTP response of the
 * mutation that starts it (its commit is acknowledged) to the feed showing
 * the hop's result (validated, paid, driver_assigned).
 *
 * The restaurant approves on "paid": the order-fulfilment workflow started in
 * order.paid's transaction with its wait for order.approved registered, so
 * an approval that soon is already the wait's.
 *
 * In `direct` mode (the baseline) nothing else runs the handlers: when a
 * mutation answers, this process reads the event it wrote (by the id in
 * `extensions.threefactor.events`, the row the dispatcher's claim would read),
 * builds the same Hasura body the dispatcher sends (`webhookBody`), and calls
 * the handler function through the kit's in-process adapter (`toInProcess`),
 * whose write-back goes to the API over HTTP as the handlers process's does.
 * assign-driver, a workflow step, gets the body of the call the runner would
 * make: a step event whose input is the order's order.paid payload (the
 * instance's input) and whose results hold the approval (the wait's result).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import postgres from 'postgres';
import WebSocket from 'ws';
import { demoCustomers, demoMenuItems, demoRestaurants } from '../../../src/apps/food-delivery/db/demoData.js';
import { allHandlers, assignDriver } from '../../../src/apps/food-delivery/handlers/index.js';
import { handlerTriggers } from '../../../src/apps/food-delivery/handlers/triggers.js';
import { foodDeliveryWorkflows } from '../../../src/apps/food-delivery/workflows/index.js';
import { ORDER_FULFILMENT } from '../../../src/apps/food-delivery/workflows/orderFulfilment.js';
import { webhookBody } from '../../../src/engine/dispatcher/delivery/body.js';
import type { ClaimedDelivery } from '../../../src/engine/events/sql/claimDeliveries.js';
import { ENGINE_AGGREGATES } from '../../../src/engine/events/engineEvents.js';
import { workflowTriggerName, workflowTriggers } from '../../../src/engine/workflows/triggers.js';
import { STEP_EVENT_TYPE, type StepPayload } from '../../../src/kit/contract.js';
import { mintToken } from '../../../src/engine/server/auth.js';
import { createLogger } from '../../../src/kit/log.js';
import { toInProcess, type InProcessFunction } from '../../../src/kit/inProcess.js';
import { onParent, toParent } from '../child.js';
import { coresUsed, cpuSample } from '../cpu.js';
import type { LoopClientsIn, LoopClientsOut, OrderTiming } from './protocol.js';

const send = (m: LoopClientsOut) => toParent<LoopClientsOut>(m);

const PLACE = 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';
const PAY = 'mutation Pay($orderId: ID!) { payOrder(orderId: $orderId) { id } }';
const APPROVE = 'mutation Approve($orderId: ID!) { approveOrder(orderId: $orderId) { id } }';
const FEED = 'subscription Feed { restaurantOrders { id status version } }';

interface GraphqlAnswer {
  data?: Record<string, { id: string } | null> | null;
  errors?: Array<{ message?: string }>;
  extensions?: { threefactor?: { events?: string[] } };
}

/** One order's chain: when each step's mutation answered and when the feed showed each result. */
interface Chain {
  restaurantToken: string;
  customerToken: string;
  measured: boolean;
  placed?: number;
  validated?: number;
  paid?: number;
  paidSeen?: number;
  approved?: number;
  assigned?: number;
  /** Steps already taken, so a repeated feed state does not take one twice. */
  paying?: boolean;
  approving?: boolean;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

async function run(message: LoopClientsIn): Promise<Extract<LoopClientsOut, { type: 'done' }>> {
  const api = new URL(message.apiUrl);
  // No cap: every client request has a socket, as separate customers and restaurants would.
  const agent = new http.Agent({ keepAlive: true });
  const customers = await Promise.all(demoCustomers.map((c) => mintToken(message.jwtSecret, { role: 'customer', sub: c.id! })));
  const restaurants = await Promise.all(
    demoRestaurants.map(async (r) => ({ id: r.id!, token: await mintToken(message.jwtSecret, { role: 'restaurant', sub: r.id! }) })),
  );

  let failures = 0;
  let firstFailure: string | undefined;
  const failed = (what: unknown) => {
    failures++;
    firstFailure ??= what instanceof Error ? what.message : String(what).slice(0, 500);
  };

  const post = (query: string, variables: Record<string, unknown>, token: string) =>
    new Promise<GraphqlAnswer>((resolve, reject) => {
      const body = Buffer.from(JSON.stringify({ query, variables }));
      const req = http.request(
        { host: api.hostname, port: api.port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const answer = JSON.parse(Buffer.concat(chunks).toString()) as GraphqlAnswer;
              if (res.statusCode !== 200 || answer.errors?.length) reject(new Error(`HTTP ${res.statusCode}: ${JSON.stringify(answer.errors ?? answer).slice(0, 300)}`));
              else resolve(answer);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  // ---- direct mode: the handler functions, called here
  const sql = message.mode === 'direct' ? postgres(message.databaseUrl, { max: 4, onnotice: () => {}, connection: { application_name: 'threefactor-bench-loop-direct' } }) : undefined;
  const log = createLogger(process.env.LOG_LEVEL ?? 'info');
  const triggers = new Map(handlerTriggers('webhook').map((t) => [t.name, t]));
  const fulfilment = foodDeliveryWorkflows('webhook').find((w) => w.name === ORDER_FULFILMENT);
  // The step calling assign-driver, and the wait before it (the approval), as the definition has them.
  const assignAt = fulfilment?.steps.findIndex((st) => st.kind === 'call' && st.handler === assignDriver.name) ?? -1;
  const assignStep = fulfilment?.steps[assignAt];
  const approval = fulfilment?.steps[assignAt - 1];
  if (!fulfilment || !assignStep || approval?.kind !== 'wait') throw new Error(`${ORDER_FULFILMENT}: no step calling ${assignDriver.name} right after a wait`);
  const assignTriggerName = workflowTriggerName(fulfilment.name, fulfilment.version, assignDriver.name);
  const assignTrigger = workflowTriggers([fulfilment]).find((t) => t.name === assignTriggerName)!;
  const functions = new Map<string, InProcessFunction>(
    allHandlers.map((h) => [h.name, toInProcess(h, { apiUrl: `${message.apiUrl}/graphql`, serviceToken: message.serviceToken, log })]),
  );
  type EventRow = { id: string; type: string; aggregate_type: string; aggregate_id: string; payload: Record<string, unknown>; session: Record<string, string> | null; trace_context: Record<string, string> | null; created_at: string };
  const maxAttempts = (retry: { numRetries?: number } | undefined) => (retry?.numRetries ?? 0) + 1;
  /** Calls `name` with the body a claim of `delivery` would send; a delivery id of its own, so the write-back records a cause as the chain's does (same columns written). */
  const call = async (name: string, delivery: ClaimedDelivery, match: Parameters<typeof webhookBody>[2]) =>
    functions.get(name)!(webhookBody(delivery.triggerName, delivery, match), undefined, { id: delivery.id, eventId: delivery.event.id });
  /** What the dispatcher would do for the event `eventId` and trigger `name`, minus the queue: read, build the body, call. */
  const callDirect = async (name: string, eventId: string | undefined) => {
    if (!sql || !eventId) throw new Error(`direct ${name}: no event id in the mutation's extensions`);
    const [e] = await sql<EventRow[]>`
      select id, type, aggregate_type, aggregate_id, payload, session, trace_context, to_json(created_at) #>> '{}' as created_at
      from threefactor.events where id = ${eventId}`;
    if (!e) throw new Error(`direct ${name}: event ${eventId} not found`);
    const trigger = triggers.get(name)!;
    const event = { id: e.id, type: e.type, aggregateType: e.aggregate_type, aggregateId: e.aggregate_id, payload: e.payload, session: e.session, traceContext: e.trace_context, createdAt: e.created_at };
    await call(name, { id: randomUUID(), triggerName: name, attempts: 0, maxAttempts: maxAttempts(trigger.retry), claims: 1, orderingKey: e.aggregate_id, source: 'event', event }, trigger.match);
  };
  /**
   * What the workflow runner and the dispatcher would do once the approval `approvedId` signalled the wait, minus
   * the queue: read the instance's input (the payload of the start event of the approval's aggregate, the
   * instance's key), build the step call, call.
   */
  const callStep = async (approvedId: string | undefined) => {
    if (!sql || !approvedId) throw new Error(`direct ${assignDriver.name}: no event id in approveOrder's extensions`);
    const [paid] = await sql<Array<{ payload: Record<string, unknown>; created_at: string }>>`
      select p.payload, to_json(now()) #>> '{}' as created_at
      from threefactor.events a join threefactor.events p on p.aggregate_type = a.aggregate_type and p.aggregate_id = a.aggregate_id
      where a.id = ${approvedId} and p.type = any(${fulfilment.start.types})`;
    if (!paid) throw new Error(`direct ${assignDriver.name}: the aggregate of event ${approvedId} has no ${fulfilment.start.types.join('/')} event`);
    const stepId = randomUUID();
    const payload: StepPayload = {
      workflow: fulfilment.name,
      version: fulfilment.version,
      instanceId: randomUUID(),
      stepId,
      step: assignStep.name,
      phase: 'forward',
      input: paid.payload,
      results: { [approval.name]: { eventId: approvedId, type: approval.for.types[0] } },
      failure: null,
    };
    const event = { id: stepId, type: STEP_EVENT_TYPE, aggregateType: ENGINE_AGGREGATES.workflow, aggregateId: payload.instanceId, payload: { ...payload }, session: null, traceContext: null, createdAt: paid.created_at };
    await call(assignDriver.name, { id: randomUUID(), triggerName: assignTriggerName, attempts: 0, maxAttempts: maxAttempts(assignTrigger.retry), claims: 1, orderingKey: null, source: 'event', event }, assignTrigger.match);
  };

  // ---- the chain, driven by the feed
  const chains = new Map<string, Chain>();
  let unfinishedWake: (() => void) | undefined;
  const finished = (c: Chain) => c.assigned !== undefined;
  const step = (orderId: string, c: Chain) => {
    if (c.placed !== undefined && c.validated !== undefined && !c.paying) {
      c.paying = true;
      post(PAY, { orderId }, c.customerToken)
        .then(async (answer) => {
          c.paid = performance.now();
          if (message.mode === 'direct') await callDirect('charge-payment', answer.extensions?.threefactor?.events?.[0]);
        })
        .catch(failed);
    }
    if (c.paid !== undefined && c.paidSeen !== undefined && !c.approving) {
      c.approving = true;
      post(APPROVE, { orderId }, c.restaurantToken)
        .then(async (answer) => {
          c.approved = performance.now();
          if (message.mode === 'direct') await callStep(answer.extensions?.threefactor?.events?.[0]);
        })
        .catch(failed);
    }
    if (finished(c)) unfinishedWake?.();
  };
  const seen = (order: { id: string; status: string }) => {
    const at = performance.now();
    const c = chains.get(order.id);
    // An order of another run, or one whose placement has not answered yet: keep what it showed.
    const chain = c ?? { restaurantToken: '', customerToken: '', measured: false };
    if (!c) chains.set(order.id, chain);
    if (order.status === 'validated') chain.validated ??= at;
    if (order.status === 'paid') chain.paidSeen ??= at;
    if (order.status === 'driver_assigned') chain.assigned ??= at;
    if (c) step(order.id, c);
  };

  const sockets: WebSocket[] = [];
  /** Set when the run closes its feeds: their close is not a failure. */
  let closing = false;
  await Promise.all(
    restaurants.map(
      (r, i) =>
        new Promise<void>((resolve, reject) => {
          const id = `feed-${i}-${randomUUID().slice(0, 4 + i * 3)}`;
          const socket = new WebSocket(`${message.apiUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
          sockets.push(socket);
          socket.once('error', reject);
          socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${r.token}` } })));
          socket.on('message', (data) => {
            const m = JSON.parse(String(data)) as { type: string; id?: string; payload?: { data?: { restaurantOrders?: { id: string; status: string } } } };
            if (m.type === 'connection_ack') {
              socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: FEED } }));
              resolve();
            } else if (m.type === 'next') {
              if (m.id !== id) return failed(`a feed frame for ${m.id} on the socket of ${id}`);
              const order = m.payload?.data?.restaurantOrders;
              if (order) seen(order);
              else failed(`feed: ${JSON.stringify(m.payload).slice(0, 300)}`);
            } else if (m.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
            else if (m.type === 'error' || m.type === 'complete') failed(`feed ${m.type}: ${String(data).slice(0, 300)}`);
          });
          socket.once('close', (code, reason) => {
            if (!closing) failed(`feed socket closed: ${code} ${String(reason)}`);
          });
        }),
    ),
  );
  send({ type: 'subscribed' });

  const place = (measured: boolean) => {
    const restaurant = pick(restaurants);
    const [first, second] = demoMenuItems.filter((m) => m.restaurantId === restaurant.id);
    const input = {
      restaurantId: restaurant.id,
      items: [first!, second!].map((m) => ({ menuItemId: m.id, quantity: 1 + Math.floor(Math.random() * 3) })),
      deliveryAddress: '1 Benchmark Row',
    };
    // The customer who places an order pays for it.
    const customerToken = pick(customers);
    post(PLACE, { input }, customerToken)
      .then(async (answer) => {
        const at = performance.now();
        const orderId = answer.data?.placeOrder?.id;
        if (!orderId) throw new Error(`placeOrder answered no id: ${JSON.stringify(answer).slice(0, 300)}`);
        // The feed may have shown the order already: keep what it showed.
        const c: Chain = { ...chains.get(orderId), restaurantToken: restaurant.token, customerToken, measured, placed: at };
        chains.set(orderId, c);
        if (message.mode === 'direct') await callDirect('validate-order', answer.extensions?.threefactor?.events?.[0]);
        step(orderId, c);
      })
      .catch(failed);
  };
  const cpuFrom = cpuSample();
  const start = performance.now();
  const total = message.warmupMs + message.durationMs;
  let issued = 0;
  let lateMs = 0;
  while (performance.now() - start < total) {
    const elapsed = performance.now() - start;
    const due = Math.floor((elapsed / 1000) * message.perSecond) + 1;
    lateMs = Math.max(lateMs, ((due - 1 - issued) / message.perSecond) * 1000);
    while (issued < due) {
      const at = (issued / message.perSecond) * 1000;
      issued++;
      place(at >= message.warmupMs);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const placedAll = issued;
  const settleBy = performance.now() + message.settleMs;
  const ours = () => [...chains.values()].filter((c) => c.placed !== undefined);
  while (performance.now() < settleBy && (ours().length < placedAll || ours().some((c) => !finished(c)))) {
    await new Promise<void>((resolve) => {
      unfinishedWake = resolve;
      setTimeout(resolve, 50);
    });
  }
  const clientCores = coresUsed(cpuFrom, cpuSample());

  let early = 0;
  const hop = (from: number, to: number) => {
    if (to < from) early++;
    return Math.max(0, to - from);
  };
  const measured: OrderTiming[] = [];
  for (const [orderId, c] of chains) {
    if (!c.measured || !finished(c) || c.placed === undefined || c.validated === undefined || c.paid === undefined || c.paidSeen === undefined || c.approved === undefined) continue;
    measured.push({ orderId, hopsMs: [hop(c.placed, c.validated), hop(c.paid, c.paidSeen), hop(c.approved, c.assigned!)] });
  }
  closing = true;
  for (const s of sockets) s.terminate();
  agent.destroy();
  await sql?.end({ timeout: 5 });
  return { type: 'done', measured, placed: placedAll, unfinished: placedAll - ours().filter(finished).length, early, failures, firstFailure, lateMs, clientCores };
}

onParent<LoopClientsIn>(async (message) => {
  if (message.type === 'run') send(await run(message));
});
