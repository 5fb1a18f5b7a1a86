/**
 * The order workflow's step handlers, called as the dispatcher calls them
 * but without a runner: a step's delivery (signed, Hasura-shaped, its event
 * id the step id) sent to the real handler server, which writes back to a
 * real API and charges and refunds through a recording payment provider
 * over HTTP (PAYMENT_PROVIDER_URL). Checked after: the order, the payment,
 * the event log, and every call the provider saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHandlers, stepHandlers } from '../../src/apps/food-delivery/handlers/index.js';
import { inProcessHandlers } from '../../src/apps/food-delivery/handlers/triggers.js';
import { httpProvider, PAYMENT_PROVIDER_URL } from '../../src/apps/food-delivery/handlers/fakePaymentProvider.js';
import { foodDeliveryWorkflows } from '../../src/apps/food-delivery/workflows/index.js';
import { fulfilmentTimeouts, orderFulfilment } from '../../src/apps/food-delivery/workflows/orderFulfilment.js';
import { createLogger } from '../../src/engine/log.js';
import { serveHandlers, type HandlerServer } from '../../src/kit/node.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { eventsOf, ok, orderAt, Q, seeded, tokensFor, writeState, type OrderView, type Tokens } from '../support/orders.js';
import { startRecordingProvider, type RecordingProvider } from '../support/paymentProvider.js';
import { deliver, deliveryOf, newWebhookSecret } from '../support/webhooks.js';
import { stepDelivery } from '../support/workflowSteps.js';

const secret = newWebhookSecret();
let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
let server: HandlerServer;
let provider: RecordingProvider;
const savedProviderUrl = process.env[PAYMENT_PROVIDER_URL];

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
  tokens = await tokensFor(api);
  provider = await startRecordingProvider();
  // Read by the handlers at each call, as the handler process reads its env.
  process.env[PAYMENT_PROVIDER_URL] = provider.url;
  server = await serveHandlers(allHandlers, {
    port: 0,
    webhookSecret: secret,
    apiUrl: `${api.url}/graphql`,
    serviceToken: await api.token('service', 'handlers'),
    log: createLogger('silent'),
  });
});
afterAll(async () => {
  if (savedProviderUrl === undefined) delete process.env[PAYMENT_PROVIDER_URL];
  else process.env[PAYMENT_PROVIDER_URL] = savedProviderUrl;
  await server?.drain(1000);
  await provider?.close();
  await api?.close();
  await db?.drop();
});

const send = (fn: string, body: unknown) => deliver(`${server.url}/${fn}`, body, { secret });
/** A step handler's answer: 200 with the step's result (its `outcome` word among it). */
async function sendStep(fn: string, body: unknown): Promise<{ status: number; result: { outcome?: string } & Record<string, unknown>; error?: string }> {
  const res = await send(fn, body);
  return { status: res.status, result: (res.body as { result?: { outcome?: string } }).result ?? {}, error: res.body.error };
}
const orderNow = async (orderId: string) =>
  ok(await api.gql<{ order: OrderView & { payments: Array<{ status: string }> } }>(Q.order, { id: orderId }, tokens.admin)).order;
const typesOf = async (orderId: string) => (await eventsOf(db, orderId)).map((e) => e.type);
const refundsOf = (orderId: string) => provider.calls.filter((c) => c.kind === 'refund' && c.orderId === orderId);

const CANCEL = `mutation($orderId: ID!) { cancelOrder(orderId: $orderId) { status } }`;
const RESERVE = `mutation($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {
  reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { status } }`;

/** A refund-payment compensation step for this order (the start's compensation). */
const refundStep = (orderId: string, stepId?: string) => stepDelivery({ step: '$start', phase: 'compensate', input: { orderId }, stepId });
/** The assign-driver step of this order's workflow. */
const assignStep = (orderId: string) => stepDelivery({ step: 'assign-driver', input: { orderId } });
/** What a refund step's first invocation wrote before it crashed: its reservation, under its step id. */
const reserveAs = async (step: { id: string }, orderId: string, reason?: string) =>
  ok(await api.gql(RESERVE, { orderId, idempotencyKey: step.id, ...(reason ? { reason } : {}) }, tokens.service));
const assignmentOf = async (orderId: string) =>
  (await db.sql<{ status: string; driver_id: string | null; assignments: number }[]>`
    select status, driver_id, (select count(*)::int from driver_assignments where order_id = ${orderId}) as assignments from orders where id = ${orderId}`)[0]!;

describe('refund-payment', () => {
  it('refunds a declined order once, keyed by the step id, and ends it refunded (declined)', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: order.id, reason: 'no dough' }, tokens.napoli));
    const step = refundStep(order.id);
    const res = await sendStep('refund-payment', step);
    expect(res).toMatchObject({ status: 200, result: { outcome: 'refunded', reason: 'declined' } });
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'declined', payments: [{ status: 'refunded' }] });
    expect(refundsOf(order.id)).toEqual([expect.objectContaining({ key: step.id, made: true })]);
    expect((await typesOf(order.id)).slice(-3)).toEqual(['refund.requested', 'refund.succeeded', 'order.refunded']);
    const [row] = await db.sql`select refund_key, refund_provider_ref from payments where order_id = ${order.id}`;
    expect(row).toEqual({ refund_key: step.id, refund_provider_ref: refundsOf(order.id)[0]!.refundRef });
  });

  it('a step delivered again after it completed: already applied, no second provider call', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    const step = refundStep(order.id);
    expect((await sendStep('refund-payment', step)).result.outcome).toBe('refunded');
    const before = await writeState(db);
    expect(await sendStep('refund-payment', { ...step, delivery_info: { ...step.delivery_info, current_retry: 1 } })).toMatchObject({
      status: 200,
      result: { outcome: 'already-applied' },
    });
    expect(await writeState(db)).toEqual(before);
    expect(refundsOf(order.id)).toHaveLength(1);
    expect((await orderNow(order.id)).statusReason).toBe('customer_cancel');
  });

  it('a step that crashed after the provider refunded: invoked again with its id, its reservation stands and the provider returns the same refund', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: order.id, reason: 'restaurant_timeout' }, tokens.service));
    const step = refundStep(order.id);
    const [payment] = await db.sql`select id, amount_cents, provider_ref from payments where order_id = ${order.id}`;
    // The first invocation's reservation and provider call, whose write-back never happened.
    await reserveAs(step, order.id);
    const first = await httpProvider(provider.url).refund({
      paymentId: payment!.id,
      orderId: order.id,
      amountCents: payment!.amount_cents,
      chargeRef: payment!.provider_ref,
      idempotencyKey: step.id,
    });
    expect(await sendStep('refund-payment', step)).toMatchObject({ status: 200, result: { outcome: 'refunded', refundRef: first.refundRef } });
    expect(refundsOf(order.id).map((c) => [c.key, c.refundRef, c.made])).toEqual([
      [step.id, first.refundRef, true],
      [step.id, first.refundRef, false],
    ]);
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'restaurant_timeout' });
    expect(provider.refundsMade().filter((c) => c.orderId === order.id)).toHaveLength(1);
    // And once more, after it completed: done, no third provider call.
    expect((await sendStep('refund-payment', step)).result.outcome).toBe('already-applied');
    expect(refundsOf(order.id)).toHaveLength(2);
    expect((await typesOf(order.id)).filter((t) => t.startsWith('refund.'))).toEqual(['refund.requested', 'refund.succeeded']);
  });

  it('a step that crashed after reserving, before the provider: invoked again with its id, one refund under that id', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const step = refundStep(order.id);
    await reserveAs(step, order.id, 'no_driver');
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunding', statusReason: 'no_driver', payments: [{ status: 'succeeded' }] });
    expect(refundsOf(order.id)).toEqual([]);
    expect(await sendStep('refund-payment', step)).toMatchObject({ status: 200, result: { outcome: 'refunded', reason: 'no_driver' } });
    expect(refundsOf(order.id).map((c) => [c.key, c.made])).toEqual([[step.id, true]]);
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'no_driver', payments: [{ status: 'refunded' }] });
    expect((await typesOf(order.id)).filter((t) => t.startsWith('refund.'))).toEqual(['refund.requested', 'refund.succeeded']);
  });

  it("another step's reservation (the step retried from failed has a new id): finished under that step's key, one refund", async () => {
    const order = await orderAt(api, tokens, 'approved');
    const first = refundStep(order.id);
    await reserveAs(first, order.id, 'no_driver');
    const retried = refundStep(order.id);
    expect(retried.id).not.toBe(first.id);
    expect(await sendStep('refund-payment', retried)).toMatchObject({ status: 200, result: { outcome: 'refunded', reason: 'no_driver', idempotencyKey: first.id } });
    expect(refundsOf(order.id).map((c) => [c.key, c.made])).toEqual([[first.id, true]]);
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'no_driver', payments: [{ status: 'refunded' }] });
    // The first step, invoked again after all: done, and the provider asked under the same key at most.
    expect((await sendStep('refund-payment', first)).result.outcome).toBe('already-applied');
    expect(provider.refundsMade().filter((c) => c.orderId === order.id)).toHaveLength(1);
    expect((await typesOf(order.id)).filter((t) => t.startsWith('refund.'))).toEqual(['refund.requested', 'refund.succeeded']);
  });

  it('an approved order (the driver step failed): refunded, no_driver', async () => {
    const order = await orderAt(api, tokens, 'approved');
    expect((await sendStep('refund-payment', refundStep(order.id))).result).toMatchObject({ outcome: 'refunded', reason: 'no_driver' });
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'no_driver' });
  });

  it('the one step of refund-late-payment: a charge captured after the cancel is refunded (customer_cancel)', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    ok(await api.gql(Q.payResult, { paymentId: payment.id, succeeded: true, providerRef: 'ch_late' }, tokens.service));
    const step = stepDelivery({ workflow: 'refund-late-payment', step: 'refund', input: { orderId: order.id, paymentId: payment.id } });
    expect((await sendStep('refund-payment', step)).result.outcome).toBe('refunded');
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'customer_cancel' });
  });

  it('nothing to refund (cancelled before any charge): done, no provider call', async () => {
    const order = await orderAt(api, tokens, 'validated');
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    expect((await sendStep('refund-payment', refundStep(order.id))).result.outcome).toBe('nothing-to-refund');
    expect(refundsOf(order.id)).toEqual([]);
  });

  it.each(['driver_assigned', 'delivered'] as const)('a driver got the order first (%s): not refunded, no provider call, the order goes on', async (stage) => {
    const order = await orderAt(api, tokens, stage);
    const before = await writeState(db);
    expect(await sendStep('refund-payment', refundStep(order.id))).toMatchObject({ status: 200, result: { outcome: 'not-refunded', status: stage } });
    expect(await writeState(db)).toEqual(before);
    expect(await orderNow(order.id)).toMatchObject({ status: stage, payments: [{ status: 'succeeded' }] });
    expect(refundsOf(order.id)).toEqual([]);
  });
});

describe('a late assign-driver against the refund (the driver step timed out, its call still in flight)', () => {
  it('reserved first: the late assignment assigns nobody (order-moved), the refund goes through, one refund', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const step = refundStep(order.id);
    await reserveAs(step, order.id, 'no_driver');
    const before = await writeState(db);
    expect(await sendStep('assign-driver', assignStep(order.id))).toMatchObject({ status: 200, result: { outcome: 'order-moved', status: 'refunding' } });
    expect(await writeState(db)).toEqual(before);
    expect(await assignmentOf(order.id)).toEqual({ status: 'refunding', driver_id: null, assignments: 0 });
    expect((await sendStep('refund-payment', step)).result).toMatchObject({ outcome: 'refunded', reason: 'no_driver' });
    expect(await sendStep('assign-driver', assignStep(order.id))).toMatchObject({ status: 200, result: { outcome: 'order-moved', status: 'refunded' } });
    expect(await assignmentOf(order.id)).toEqual({ status: 'refunded', driver_id: null, assignments: 0 });
    expect(refundsOf(order.id).map((c) => [c.key, c.made])).toEqual([[step.id, true]]);
  });

  it('sent together: the driver or the refund, never both, and money moves only for the refund', async () => {
    for (let i = 0; i < 6; i++) {
      const order = await orderAt(api, tokens, 'approved');
      const step = refundStep(order.id);
      const [assign, refund] = await Promise.all([sendStep('assign-driver', assignStep(order.id)), sendStep('refund-payment', step)]);
      expect([assign.status, refund.status], JSON.stringify([assign, refund])).toEqual([200, 200]);
      const now = await assignmentOf(order.id);
      if (assign.result.outcome === 'assigned') {
        expect(refund.result).toEqual({ outcome: 'not-refunded', status: 'driver_assigned' });
        expect(now).toMatchObject({ status: 'driver_assigned', assignments: 1 });
        expect(refundsOf(order.id)).toEqual([]);
      } else {
        expect(assign.result.outcome).toBe('order-moved');
        expect(refund.result).toMatchObject({ outcome: 'refunded', reason: 'no_driver' });
        expect(now).toEqual({ status: 'refunded', driver_id: null, assignments: 0 });
        expect(refundsOf(order.id).map((c) => c.key)).toEqual([step.id]);
      }
    }
  });
});

describe('decline-unanswered (the restaurant step timeout)', () => {
  const timeoutStep = (orderId: string) => stepDelivery({ step: 'await-restaurant', input: { orderId } });

  it('declines a paid order the restaurant never answered: declined, restaurant_timeout', async () => {
    const order = await orderAt(api, tokens, 'paid');
    expect(await sendStep('decline-unanswered', timeoutStep(order.id))).toMatchObject({ status: 200, result: { outcome: 'declined' } });
    expect(await orderNow(order.id)).toMatchObject({ status: 'declined', statusReason: 'restaurant_timeout' });
    const last = (await eventsOf(db, order.id)).at(-1)!;
    expect(last).toMatchObject({ type: 'order.declined', session: { 'x-hasura-role': 'service' } });
  });

  it('too late once the restaurant approved (or the customer cancelled): success, nothing written', async () => {
    for (const setup of [
      async () => orderAt(api, tokens, 'approved'),
      async () => {
        const o = await orderAt(api, tokens, 'paid');
        ok(await api.gql(CANCEL, { orderId: o.id }, tokens.alice));
        return o;
      },
    ]) {
      const order = await setup();
      const before = await writeState(db);
      expect(await sendStep('decline-unanswered', timeoutStep(order.id))).toMatchObject({ status: 200, result: { outcome: 'too-late' } });
      expect(await writeState(db)).toEqual(before);
    }
  });

  it('against a concurrent approval: exactly one of the two wins', async () => {
    for (let i = 0; i < 5; i++) {
      const order = await orderAt(api, tokens, 'paid');
      const [timeout, approve] = await Promise.all([sendStep('decline-unanswered', timeoutStep(order.id)), api.gql(Q.approve, { orderId: order.id }, tokens.napoli)]);
      expect(timeout.status).toBe(200);
      const approved = !approve.errors;
      expect(timeout.result.outcome).toBe(approved ? 'too-late' : 'declined');
      expect((await orderNow(order.id)).status).toBe(approved ? 'approved' : 'declined');
      expect((await typesOf(order.id)).filter((t) => t === 'order.approved' || t === 'order.declined')).toHaveLength(1);
    }
  });
});

describe('charge-payment through the HTTP provider', () => {
  it('charges once per payment, keyed by the payment id, on every redelivery', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const event = (await eventsOf(db, order.id)).find((e) => e.type === 'payment.requested')!;
    const body = deliveryOf(event, 'charge-payment');
    expect((await send('charge-payment', body)).body.outcome).toBe('paid');
    expect((await send('charge-payment', body)).body.outcome).toBe('already-applied');
    const charges = provider.calls.filter((c) => c.kind === 'charge' && c.orderId === order.id);
    expect(charges.map((c) => c.key)).toEqual([payment.id, payment.id]);
    expect((await orderNow(order.id)).status).toBe('paid');
  });
});

describe('the workflow declarations', () => {
  it('order-fulfilment: starts on order.paid, waits for the restaurant, assigns a driver, refunds on failure', () => {
    const def = orderFulfilment('webhook', { approvalSec: 2, driverSec: 3 });
    expect(def).toMatchObject({
      name: 'order-fulfilment',
      version: 1,
      start: { types: ['order.paid'], key: 'aggregate', compensate: 'refund-payment' },
      steps: [
        { name: 'await-restaurant', kind: 'wait', for: { types: ['order.approved'] }, failOn: { types: ['order.declined', 'order.cancelled'] }, timeoutSec: 2, onTimeout: 'decline-unanswered' },
        { name: 'assign-driver', kind: 'call', handler: 'assign-driver', timeoutSec: 3 },
      ],
    });
    expect(Object.fromEntries(Object.entries(def.handlers).map(([k, h]) => [k, h.target]))).toEqual({
      'decline-unanswered': { kind: 'webhookFromEnv', env: 'DECLINE_UNANSWERED_URL' },
      'assign-driver': { kind: 'webhookFromEnv', env: 'ASSIGN_DRIVER_URL' },
      'refund-payment': { kind: 'webhookFromEnv', env: 'REFUND_PAYMENT_URL' },
    });
    expect(foodDeliveryWorkflows('inProcess').map((w) => [w.name, w.start.types, Object.values(w.handlers).map((h) => h.target)])).toEqual([
      ['order-fulfilment', ['order.paid'], ['decline-unanswered', 'assign-driver', 'refund-payment'].map((handler) => ({ kind: 'inProcess', handler }))],
      ['refund-late-payment', ['payment.captured_after_cancel'], [{ kind: 'inProcess', handler: 'refund-payment' }]],
    ]);
  });

  it('timeouts come from env (defaults 300 s and 600 s); a bad value is refused by name', () => {
    expect(fulfilmentTimeouts({})).toEqual({ approvalSec: 300, driverSec: 600 });
    expect(fulfilmentTimeouts({ ORDER_APPROVAL_TIMEOUT_SEC: '2', DRIVER_ASSIGNMENT_TIMEOUT_SEC: '1.5' })).toEqual({ approvalSec: 2, driverSec: 1.5 });
    expect(() => fulfilmentTimeouts({ ORDER_APPROVAL_TIMEOUT_SEC: 'soon' })).toThrow('ORDER_APPROVAL_TIMEOUT_SEC must be a positive number of seconds, got "soon"');
  });

  it('every step handler is in-process too, and runs the same function', async () => {
    const registry = inProcessHandlers({ apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: createLogger('silent') });
    for (const h of stepHandlers) expect(typeof registry[h.name]).toBe('function');
    const order = await orderAt(api, tokens, 'paid');
    await registry['decline-unanswered']!(stepDelivery({ step: 'await-restaurant', input: { orderId: order.id } }), new AbortController().signal);
    expect((await orderNow(order.id)).statusReason).toBe('restaurant_timeout');
    const step = refundStep(order.id);
    await registry['refund-payment']!(step, new AbortController().signal);
    expect(await orderNow(order.id)).toMatchObject({ status: 'refunded', statusReason: 'restaurant_timeout' });
    expect(refundsOf(order.id).map((c) => c.key)).toEqual([step.id]);
  });
});

