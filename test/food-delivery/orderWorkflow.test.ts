/**
 * The order process as a mediator, end to end, with real processes in the
 * production layout: the test's API, `handlers` and `dispatch` as child
 * processes (the dispatcher runs the workflows), the handlers charging and
 * refunding through a recording payment provider over HTTP, short real
 * timeouts. Each path is watched as a customer sees it, over a graphql-ws
 * `order(id)` subscription, until the order settles: declined after
 * payment, the restaurant's silence, no driver, the customer's cancel, a
 * cancel while the charge is in flight, and approve against the approval
 * timeout. Every refund is checked at the provider: one idempotency key per
 * order, the compensation step's id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import { startChain, type Chain } from '../support/chain.js';
import type { TestDatabase } from '../support/db.js';
import { eventsOf, ok, placeNapoliOrder, Q, type Tokens } from '../support/orders.js';
import { startRecordingProvider, type RecordingProvider } from '../support/paymentProvider.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { useTestApi } from '../support/useTestApi.js';

const APPROVAL_TIMEOUT_SEC = 2;
const DRIVER_TIMEOUT_SEC = 3;
/** What a path may take at most: its timeouts, the retries' backoff, a slow shared machine. */
const SETTLE_MS = 25_000;

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
let chain: Chain | undefined;
let provider: RecordingProvider;
let ws: WsSession;

/** Read where the workflows are declared and synced: the dispatcher. */
const timeouts = { ORDER_APPROVAL_TIMEOUT_SEC: String(APPROVAL_TIMEOUT_SEC), DRIVER_ASSIGNMENT_TIMEOUT_SEC: String(DRIVER_TIMEOUT_SEC) };

useTestApi({ seed: true, max: 20 }, (env) => ({ db, api, tokens } = env));

beforeAll(async () => {
  provider = await startRecordingProvider();
  chain = await startChain(db, api, { handlers: { PAYMENT_PROVIDER_URL: provider.url }, dispatcher: timeouts });
  ws = wsSession(api.url, tokens.alice);
}, 60_000);

afterAll(async () => {
  await ws?.dispose();
  await chain?.stop();
  await provider?.close();
});

interface LiveOrder {
  order: { id: string; status: string; statusReason: string | null; version: number };
}

const LIVE = `subscription($id: ID!) { order(id: $id) { id status statusReason version } }`;
const CANCEL = `mutation($orderId: ID!) { cancelOrder(orderId: $orderId) { status } }`;

/** The customer's live view of the order until it shows `status`; returns that state. */
async function seen(orderId: string, status: string, timeoutMs = SETTLE_MS): Promise<LiveOrder['order']> {
  const feed = ws.subscribe<LiveOrder>(LIVE, { id: orderId });
  try {
    await feed.until((f) => f.data.some((d) => d.order.status === status), timeoutMs, `order ${orderId} ${status}`);
    return feed.data.find((d) => d.order.status === status)!.order;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await diagnosis(orderId)}`);
  } finally {
    feed.unsubscribe();
  }
}

/** What the workflows and deliveries of an order did, for a failure's message. */
async function diagnosis(orderId: string): Promise<string> {
  const instances = await db.sql`select id, workflow, status, step_index, phase, failure, results from threefactor.workflow_instances where key = ${orderId}`;
  const steps = await db.sql`select s.name, s.kind, s.phase, s.handler, s.status, s.error, d.status as delivery, d.last_error
    from threefactor.workflow_steps s join threefactor.workflow_instances i on i.id = s.instance_id
    left join threefactor.deliveries d on d.id = s.delivery_id where i.key = ${orderId} order by s.started_at`;
  const logs = [...(chain?.dispatcher.logs ?? []), ...(chain?.handlers.logs ?? [])].filter((l) => Number(l.level) >= 40).slice(-10);
  return JSON.stringify({ instances, steps, events: await typesOf(orderId), logs }, null, 1).slice(0, 6000);
}

/** A Napoli order of Alice's, validated and charged by the broker's triggers: paid. */
async function paidOrder(): Promise<string> {
  const order = await placeNapoliOrder(api, tokens.alice);
  await seen(order.id, 'validated');
  ok(await api.gql(Q.pay, { orderId: order.id }, tokens.alice));
  await seen(order.id, 'paid');
  return order.id;
}

const typesOf = async (orderId: string) => (await eventsOf(db, orderId)).map((e) => e.type);

interface InstanceRow {
  id: string;
  workflow: string;
  status: string;
}

async function instancesOf(orderId: string): Promise<InstanceRow[]> {
  return db.sql<InstanceRow[]>`select id, workflow, status from threefactor.workflow_instances where key = ${orderId} order by created_at`;
}

/** Waits for the order's instance of `workflow` to reach `status` (the runner commits after the write-back that ended it). */
async function instanceSettles(orderId: string, workflow: string, status: string): Promise<InstanceRow> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const found = (await instancesOf(orderId)).find((i) => i.workflow === workflow);
    if (found?.status === status) return found;
    if (Date.now() > deadline) throw new Error(`instance of ${workflow} for ${orderId} is ${found?.status ?? 'missing'}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The one refund the provider made for this order, with the compensation step's id as its key. */
async function expectOneRefund(orderId: string, instanceId: string): Promise<void> {
  const refunds = provider.calls.filter((c) => c.kind === 'refund' && c.orderId === orderId);
  expect(new Set(refunds.map((c) => c.key)).size, JSON.stringify(refunds)).toBe(1);
  expect(provider.refundsMade().filter((c) => c.orderId === orderId)).toHaveLength(1);
  const steps = await db.sql<{ id: string; status: string }[]>`
    select id::text, status from threefactor.workflow_steps where instance_id = ${instanceId} and handler = 'refund-payment'`;
  // One refund step, completed; its id is the key the provider saw.
  expect(steps).toEqual([{ id: refunds[0]!.key, status: 'completed' }]);
  const [payment] = await db.sql`select status, refund_key from payments where order_id = ${orderId} and refund_key is not null`;
  expect(payment).toEqual({ status: 'refunded', refund_key: refunds[0]!.key });
}

describe('the order workflow, seen by the customer', () => {
  it('the restaurant approves the moment the order is paid: a driver, and the workflow completes', async () => {
    const orderId = await paidOrder();
    ok(await api.gql(Q.approve, { orderId }, tokens.napoli));
    await seen(orderId, 'driver_assigned');
    await instanceSettles(orderId, 'order-fulfilment', 'completed');
    expect(provider.calls.filter((c) => c.kind === 'refund' && c.orderId === orderId)).toEqual([]);
  });

  it('declined after payment: refunded (declined)', async () => {
    const orderId = await paidOrder();
    ok(await api.gql(Q.decline, { orderId, reason: 'out of dough' }, tokens.napoli));
    expect(await seen(orderId, 'refunded')).toMatchObject({ statusReason: 'declined' });
    const instance = await instanceSettles(orderId, 'order-fulfilment', 'compensated');
    await expectOneRefund(orderId, instance.id);
    expect((await typesOf(orderId)).slice(-4)).toEqual(['order.declined', 'refund.requested', 'refund.succeeded', 'order.refunded']);
  });

  it('the restaurant never answers: declined by the timeout, refunded (restaurant_timeout)', async () => {
    const orderId = await paidOrder();
    const paidAt = Date.now();
    expect(await seen(orderId, 'refunded')).toMatchObject({ statusReason: 'restaurant_timeout' });
    expect(Date.now() - paidAt).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_SEC * 1000 - 500);
    const instance = await instanceSettles(orderId, 'order-fulfilment', 'compensated');
    await expectOneRefund(orderId, instance.id);
    const declined = (await eventsOf(db, orderId)).find((e) => e.type === 'order.declined');
    expect(declined).toMatchObject({ payload: { reason: 'restaurant_timeout' }, session: { 'x-hasura-role': 'service' } });
  });

  it('no driver is free: the driver step times out, refunded (no_driver)', async () => {
    await db.sql`update drivers set available = false`;
    try {
      const orderId = await paidOrder();
      ok(await api.gql(Q.approve, { orderId }, tokens.napoli));
      expect(await seen(orderId, 'refunded')).toMatchObject({ statusReason: 'no_driver' });
      const instance = await instanceSettles(orderId, 'order-fulfilment', 'compensated');
      await expectOneRefund(orderId, instance.id);
      expect(await typesOf(orderId)).not.toContain('order.driver_assigned');
    } finally {
      await db.sql`update drivers set available = true`;
    }
  });

  it('the customer cancels a paid order: refunded (customer_cancel)', async () => {
    const orderId = await paidOrder();
    ok(await api.gql(CANCEL, { orderId }, tokens.alice));
    expect(await seen(orderId, 'refunded')).toMatchObject({ statusReason: 'customer_cancel' });
    const instance = await instanceSettles(orderId, 'order-fulfilment', 'compensated');
    await expectOneRefund(orderId, instance.id);
  });

  it('the customer cancels while the charge is in flight: the charge lands after, and is refunded', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    await seen(order.id, 'validated');
    const release = provider.holdCharges();
    try {
      const arrived = provider.chargeArrived();
      ok(await api.gql(Q.pay, { orderId: order.id }, tokens.alice));
      await arrived;
      ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
      await seen(order.id, 'cancelled');
    } finally {
      release();
    }
    expect(await seen(order.id, 'refunded')).toMatchObject({ statusReason: 'customer_cancel' });
    const instance = await instanceSettles(order.id, 'refund-late-payment', 'completed');
    await expectOneRefund(order.id, instance.id);
    expect((await instancesOf(order.id)).map((i) => i.workflow)).toEqual(['refund-late-payment']);
    expect((await typesOf(order.id)).slice(-5)).toEqual(['order.cancelled', 'payment.captured_after_cancel', 'refund.requested', 'refund.succeeded', 'order.refunded']);
  });

  it('approve against the approval timeout: exactly one wins, and the order ends as the winner says', async () => {
    const orders = await Promise.all([0, 1, 2, 3].map(() => paidOrder()));
    const paidAt = Date.now();
    // Approvals spread across the moment the timeout fires.
    const approvals = await Promise.all(
      orders.map(async (orderId, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, APPROVAL_TIMEOUT_SEC * 1000 - 300 + i * 200 - (Date.now() - paidAt))));
        return api.gql(Q.approve, { orderId }, tokens.napoli);
      }),
    );
    for (const [i, orderId] of orders.entries()) {
      const approved = !approvals[i]!.errors;
      if (!approved) expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain(approvals[i]!.errors![0]!.extensions?.code);
      const end = await seen(orderId, approved ? 'driver_assigned' : 'refunded');
      if (!approved) expect(end.statusReason).toBe('restaurant_timeout');
      const types = await typesOf(orderId);
      expect(types.filter((t) => t === 'order.approved' || t === 'order.declined')).toEqual([approved ? 'order.approved' : 'order.declined']);
      await instanceSettles(orderId, 'order-fulfilment', approved ? 'completed' : 'compensated');
      expect(provider.refundsMade().filter((c) => c.orderId === orderId)).toHaveLength(approved ? 0 : 1);
    }
  });
});

