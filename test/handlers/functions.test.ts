/**
 * The food-delivery functions end to end: a real API on a real database, an
 * order moved by GraphQL, the event it wrote delivered (signed, Hasura-shaped)
 * to the handler server, and the order state and event log checked after.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { menuItems } from '../../src/apps/food-delivery/db/schema.js';
import { allHandlers } from '../../src/apps/food-delivery/handlers/index.js';
import { serveHandlers, type HandlerServer } from '../../src/kit/node.js';
import { handlerTriggers, inProcessHandlers } from '../../src/apps/food-delivery/handlers/triggers.js';
import { createLogger } from '../../src/engine/log.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { eventsOf, ids, ok, orderAt, Q, seeded, tokensFor, writeState, type OrderView, type Tokens } from '../support/orders.js';
import { deliver, deliveryOf, domainEvent, newWebhookSecret } from '../support/webhooks.js';
import { stepDelivery } from '../support/workflowSteps.js';

const secret = newWebhookSecret();
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const traceparent = `00-${TRACE_ID}-b7ad6b7169203331-01`;
/** A menu item whose price makes the fake provider decline (ends in 13 cents). */
const DECLINED_ITEM = '00000000-0000-4000-8000-000300000913';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
let server: HandlerServer;

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  await db.db.insert(menuItems).values({ id: DECLINED_ITEM, restaurantId: ids.napoli, name: 'Unlucky Calzone', priceCents: 1013 });
  api = await startTestApi(db);
  tokens = await tokensFor(api);
  server = await serveHandlers(allHandlers, {
    port: 0,
    webhookSecret: secret,
    apiUrl: `${api.url}/graphql`,
    serviceToken: await api.token('service', 'handlers'),
    log: createLogger('silent'),
  });
});
afterAll(async () => {
  await server?.drain(1000);
  await api?.close();
  await db?.drop();
});

async function place(items: Array<{ menuItemId: string; quantity: number }>, deliveryAddress = '7 Canal Rd'): Promise<OrderView> {
  return ok(await api.gql<{ placeOrder: OrderView }>(Q.place, { input: { restaurantId: ids.napoli, deliveryAddress, items } }, tokens.alice))
    .placeOrder;
}

/** The latest logged event of this type for the order, as the dispatcher would deliver it. */
async function delivery(orderId: string, type: string, trigger: string) {
  const event = (await eventsOf(db, orderId)).filter((e) => e.type === type).at(-1);
  expect(event, `no ${type} event for ${orderId}`).toBeDefined();
  return deliveryOf(event!, trigger);
}

const send = (fn: string, body: unknown) => deliver(`${server.url}/${fn}`, body, { secret, headers: { traceparent } });

async function orderNow(orderId: string): Promise<OrderView> {
  return ok(await api.gql<{ order: OrderView }>(Q.order, { id: orderId }, tokens.admin)).order;
}

async function typesOf(orderId: string): Promise<string[]> {
  return (await eventsOf(db, orderId)).map((e) => e.type);
}

describe('validate-order', () => {
  it('validates an ordinary order: status, one order.validated event by the service, in the delivery trace', async () => {
    const order = await place([{ menuItemId: ids.margherita, quantity: 2 }]);
    const res = await send('validate-order', await delivery(order.id, 'order.placed', 'validate-order'));
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'validated' } });
    expect((await orderNow(order.id)).status).toBe('validated');
    const events = await eventsOf(db, order.id);
    expect(events.map((e) => e.type)).toEqual(['order.placed', 'order.validated']);
    const validated = events[1]!;
    expect(validated.session).toEqual({ 'x-hasura-role': 'service', 'x-hasura-user-id': 'handlers' });
    expect(validated.traceContext?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  });

  it.each([
    ['a PO box address', [{ menuItemId: ids.margherita, quantity: 1 }], 'PO Box 12', 'we cannot deliver to a PO box'],
    ['an address without a street number', [{ menuItemId: ids.margherita, quantity: 1 }], 'Canal Road', 'the delivery address has no street number'],
    ['more items than one delivery holds', [{ menuItemId: ids.margherita, quantity: 31 }], '7 Canal Rd', 'the order has 31 items; at most 30 fit one delivery'],
  ])('rejects %s with the reason', async (_what, items, address, reason) => {
    const order = await place(items, address);
    const res = await send('validate-order', await delivery(order.id, 'order.placed', 'validate-order'));
    expect(res).toMatchObject({ status: 200, body: { outcome: 'rejected' } });
    expect(await orderNow(order.id)).toMatchObject({ status: 'rejected', statusReason: reason });
    expect(await typesOf(order.id)).toEqual(['order.placed', 'order.rejected']);
  });

  it('is idempotent: the same event twice, one after the other and concurrently, yields one verdict', async () => {
    const order = await place([{ menuItemId: ids.tiramisu, quantity: 1 }]);
    const event = await delivery(order.id, 'order.placed', 'validate-order');
    const first = await send('validate-order', event);
    const again = await send('validate-order', event);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect([first.body.outcome, again.body.outcome]).toEqual(['validated', 'already-applied']);

    const other = await place([{ menuItemId: ids.tiramisu, quantity: 2 }]);
    const twin = await delivery(other.id, 'order.placed', 'validate-order');
    const both = await Promise.all([send('validate-order', twin), send('validate-order', twin)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both.map((r) => r.body.outcome).sort()).toEqual(['already-applied', 'validated']);

    for (const id of [order.id, other.id]) {
      expect(await typesOf(id)).toEqual(['order.placed', 'order.validated']);
      expect((await orderNow(id)).version).toBe(2);
    }
  });

  it('refuses (422, permanent) an order.placed event without the order lines, writing nothing', async () => {
    const before = await writeState(db);
    const res = await send('validate-order', domainEvent('order.placed', { orderId: ids.napoli, deliveryAddress: '1 A St', totalCents: 100 }));
    expect(res).toMatchObject({ status: 422 });
    expect(res.body.error).toBe('order.placed event lacks what validate-order needs: items: Invalid input: expected array, received undefined');
    expect(await writeState(db)).toEqual(before);
  });

  it('answers 503 and writes nothing when the API is unreachable', async () => {
    const order = await place([{ menuItemId: ids.margherita, quantity: 1 }]);
    const event = await delivery(order.id, 'order.placed', 'validate-order');
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const cut = await serveHandlers(allHandlers, {
      port: 0,
      webhookSecret: secret,
      apiUrl: `http://127.0.0.1:${deadPort}/graphql`,
      serviceToken: await api.token('service'),
      log: createLogger('silent'),
    });
    try {
      const before = await writeState(db);
      const res = await deliver(`${cut.url}/validate-order`, event, { secret });
      expect(res.status).toBe(503);
      expect(await writeState(db)).toEqual(before);
      expect((await orderNow(order.id)).status).toBe('placed');
    } finally {
      await cut.drain(1000);
    }
  });
});

describe('charge-payment', () => {
  async function requestPayment(items: Array<{ menuItemId: string; quantity: number }>) {
    const order = await place(items);
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service));
    const payment = ok(await api.gql<{ payOrder: { id: string; amountCents: number } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    return { order, payment, event: await delivery(order.id, 'payment.requested', 'charge-payment') };
  }

  it('charges, records a succeeded payment with the provider reference and moves the order to paid', async () => {
    const { order, payment, event } = await requestPayment([{ menuItemId: ids.margherita, quantity: 2 }]);
    expect(payment.amountCents).toBe(1900);
    const res = await send('charge-payment', event);
    expect(res).toMatchObject({ status: 200, body: { outcome: 'paid' } });
    expect(await orderNow(order.id)).toMatchObject({ status: 'paid', payments: [{ id: payment.id, status: 'succeeded' }] });
    const [row] = await db.sql<{ provider_ref: string }[]>`select provider_ref from payments where id = ${payment.id}`;
    expect(row!.provider_ref).toMatch(/^fakepay_[0-9a-f]{24}$/);
    expect(await typesOf(order.id)).toEqual(['order.placed', 'order.validated', 'payment.requested', 'order.paid']);
  });

  it('records a decline for an amount ending in 13 cents: payment failed, order payment_failed with the reason', async () => {
    const { order, payment, event } = await requestPayment([{ menuItemId: DECLINED_ITEM, quantity: 1 }]);
    expect(payment.amountCents).toBe(1013);
    const res = await send('charge-payment', event);
    expect(res).toMatchObject({ status: 200, body: { outcome: 'declined' } });
    expect(await orderNow(order.id)).toMatchObject({
      status: 'payment_failed',
      statusReason: 'card declined',
      payments: [{ id: payment.id, status: 'failed' }],
    });
    expect((await typesOf(order.id)).at(-1)).toBe('order.payment_failed');
  });

  it('is idempotent: a redelivered request neither charges nor records twice', async () => {
    const { order, event } = await requestPayment([{ menuItemId: ids.diavola, quantity: 1 }]);
    const first = await send('charge-payment', event);
    const again = await send('charge-payment', event);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect([first.body.outcome, again.body.outcome]).toEqual(['paid', 'already-applied']);
    expect((await typesOf(order.id)).filter((t) => t === 'order.paid')).toHaveLength(1);
  });

  it('refuses (422, permanent) a payment event without a payment id, and writes nothing', async () => {
    const before = await writeState(db);
    const res = await send('charge-payment', domainEvent('payment.requested', { orderId: ids.napoli, amountCents: 100 }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/lacks what charge-payment needs: paymentId/);
    expect(await writeState(db)).toEqual(before);
  });
});

describe('assign-driver (a step of the order workflow)', () => {
  /** The step's delivery: its input is the start event's payload (order.paid), which names the order. */
  const step = (orderId: string, stepId?: string) => stepDelivery({ step: 'assign-driver', input: { orderId }, stepId });
  const setAvailable = (available: boolean, driverId?: string) =>
    driverId
      ? db.sql`update drivers set available = ${available} where id = ${driverId}`
      : db.sql`update drivers set available = ${available}`;

  it('assigns the first available driver and moves the order to driver_assigned', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const res = await send('assign-driver', step(order.id));
    expect(res).toMatchObject({ status: 200, body: { outcome: 'step-done', result: { outcome: 'assigned', driverId: ids.dana } } });
    // Drivers come by name: Dana Rider first.
    expect(await orderNow(order.id)).toMatchObject({ status: 'driver_assigned', driver: { id: ids.dana } });
    expect((await typesOf(order.id)).at(-1)).toBe('order.driver_assigned');
  });

  it('with nobody free answers 503 + Retry-After and writes nothing; a later retry assigns', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const event = step(order.id);
    await setAvailable(false);
    try {
      const before = await writeState(db);
      const busy = await send('assign-driver', event);
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('30');
      expect(busy.body.error).toBe('no driver is available');
      expect(await writeState(db)).toEqual(before);
      expect((await orderNow(order.id)).status).toBe('approved');

      await setAvailable(true, ids.eli);
      const retried = await send('assign-driver', { ...event, delivery_info: { ...event.delivery_info, current_retry: 1 } });
      expect(retried).toMatchObject({ status: 200, body: { result: { outcome: 'assigned', driverId: ids.eli } } });
      expect(await orderNow(order.id)).toMatchObject({ status: 'driver_assigned', driver: { id: ids.eli } });
    } finally {
      await setAvailable(true);
    }
  });

  it('refuses (422, permanent) the order.approved event it was once triggered by: it is a step now', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const res = await send('assign-driver', await delivery(order.id, 'order.approved', 'assign-driver'));
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('assign-driver handles threefactor.workflow.step, not order.approved');
    expect((await orderNow(order.id)).status).toBe('approved');
  });

  it('leaves an order no longer approved as it is (refunded after the step timed out): order-moved, nothing written', async () => {
    const order = await orderAt(api, tokens, 'paid');
    const before = await writeState(db);
    expect(await send('assign-driver', step(order.id))).toMatchObject({ status: 200, body: { result: { outcome: 'order-moved', status: 'paid' } } });
    expect(await writeState(db)).toEqual(before);
  });

  it('is idempotent: a redelivered step keeps the first assignment', async () => {
    const order = await orderAt(api, tokens, 'approved');
    const event = step(order.id);
    const first = await send('assign-driver', event);
    const again = await send('assign-driver', event);
    expect([first.status, again.status]).toEqual([200, 200]);
    const outcomes = [first, again].map((r) => (r.body as { result?: { outcome?: string } }).result?.outcome);
    expect(outcomes).toEqual(['assigned', 'already-applied']);
    expect((await typesOf(order.id)).filter((t) => t === 'order.driver_assigned')).toHaveLength(1);
    const [assignments] = await db.sql<{ n: number }[]>`select count(*)::int as n from driver_assignments where order_id = ${order.id}`;
    expect(assignments!.n).toBe(1);
  });
});

describe('trigger declarations', () => {
  it('route the broker functions by event type, per order, to their URL from env or in-process (assign-driver is a workflow step)', () => {
    const webhook = handlerTriggers('webhook');
    expect(webhook.map((t) => [t.name, t.match, t.target, t.orderingKey])).toEqual([
      ['validate-order', { kind: 'event', types: ['order.placed'] }, { kind: 'webhookFromEnv', env: 'VALIDATE_ORDER_URL' }, 'aggregate'],
      ['charge-payment', { kind: 'event', types: ['payment.requested'] }, { kind: 'webhookFromEnv', env: 'CHARGE_PAYMENT_URL' }, 'aggregate'],
    ]);
    for (const t of webhook) expect(t.retry?.numRetries).toBeGreaterThan(0);
    expect(handlerTriggers('inProcess').map((t) => t.target)).toEqual([
      { kind: 'inProcess', handler: 'validate-order' },
      { kind: 'inProcess', handler: 'charge-payment' },
    ]);
  });

  it('in-process targets run the same functions against the API', async () => {
    const registry = inProcessHandlers({ apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: createLogger('silent') });
    for (const t of handlerTriggers('inProcess')) {
      expect(t.target.kind === 'inProcess' && typeof registry[t.target.handler]).toBe('function');
    }
    const order = await place([{ menuItemId: ids.margherita, quantity: 1 }], 'PO Box 9');
    await registry['validate-order']!(await delivery(order.id, 'order.placed', 'validate-order'), new AbortController().signal);
    expect(await orderNow(order.id)).toMatchObject({ status: 'rejected', statusReason: 'we cannot deliver to a PO box' });
  });
});
