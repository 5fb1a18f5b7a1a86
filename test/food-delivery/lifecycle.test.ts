/**
 * The order lifecycle's new steps over real HTTP, one mutation at a time:
 * the customer's cancel, the service's timeout decline, a charge that lands
 * after a cancel, and the refund's two writes, its reservation and its
 * write-back (its reason, its idempotency key); and the races the mediator
 * depends on, as concurrent requests: of approve against the timeout's
 * decline, approve against cancel, and a driver assignment against the
 * refund's reservation, exactly one wins and the loser writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { eventsOf, ids, ok, orderAt, ORDER_FIELDS, placeNapoliOrder, Q, refused, writeState, type OrderView, type Tokens } from '../support/orders.js';
import { useTestApi } from '../support/useTestApi.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;

useTestApi({ seed: true, max: 20 }, (env) => ({ db, api, tokens } = env));

const CANCEL = `mutation($orderId: ID!) { cancelOrder(orderId: $orderId) { ${ORDER_FIELDS} } }`;
const RESERVE = `mutation($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {
  reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { ${ORDER_FIELDS} } }`;
const REFUND = `mutation($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {
  recordRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, refundRef: $refundRef) { ${ORDER_FIELDS} } }`;
const PAYMENTS = `query($id: ID!) { order(id: $id) { status statusReason payments { id status providerRef refundProviderRef refundedAt } } }`;

interface PaymentView {
  id: string;
  status: string;
  providerRef: string | null;
  refundProviderRef: string | null;
  refundedAt: string | null;
}

async function paymentsOf(orderId: string): Promise<{ status: string; statusReason: string | null; payments: PaymentView[] }> {
  return ok(await api.gql<{ order: { status: string; statusReason: string | null; payments: PaymentView[] } }>(PAYMENTS, { id: orderId }, tokens.admin)).order;
}

const typesOf = async (orderId: string) => (await eventsOf(db, orderId)).map((e) => e.type);

async function expectRefused(who: keyof Tokens, query: string, variables: Record<string, unknown>, code: string): Promise<string> {
  const before = await writeState(db);
  const error = refused(await api.gql(query, variables, tokens[who]));
  expect(error.code, error.message).toBe(code);
  expect(await writeState(db)).toEqual(before);
  return error.message;
}

/** A validated order with its charge requested and not yet recorded (the charge is in flight). */
async function chargeInFlight(): Promise<{ order: OrderView; paymentId: string }> {
  const order = await orderAt(api, tokens, 'validated');
  const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
  return { order, paymentId: payment.id };
}

const reserve = (orderId: string, idempotencyKey: string, reason?: string) =>
  api.gql<{ reserveRefund: OrderView }>(RESERVE, { orderId, idempotencyKey, ...(reason ? { reason } : {}) }, tokens.service);
const record = (orderId: string, idempotencyKey: string, refundRef = `re_${randomUUID()}`) =>
  api.gql<{ recordRefund: OrderView }>(REFUND, { orderId, idempotencyKey, refundRef }, tokens.service);

/** Both writes under one new key, as the refund step makes them (reserved, then recorded). */
async function refund(orderId: string, reason?: string): Promise<OrderView> {
  const key = randomUUID();
  ok(await reserve(orderId, key, reason));
  return ok(await record(orderId, key)).recordRefund;
}

const refundKeyOf = async (orderId: string) =>
  (await db.sql<{ status: string; refund_key: string | null }[]>`select status, refund_key from payments where order_id = ${orderId}`)[0];

describe('cancel (the customer, before approval)', () => {
  it.each(['placed', 'validated', 'paid'] as const)('from %s: cancelled, reason customer_cancel, one order.cancelled', async (stage) => {
    const order = await orderAt(api, tokens, stage);
    const cancelled = ok(await api.gql<{ cancelOrder: OrderView }>(CANCEL, { orderId: order.id }, tokens.alice)).cancelOrder;
    expect(cancelled).toMatchObject({ status: 'cancelled', statusReason: 'customer_cancel', version: order.version + 1 });
    const events = await eventsOf(db, order.id);
    expect(events.at(-1)).toMatchObject({ type: 'order.cancelled', payload: { status: 'cancelled', reason: 'customer_cancel' } });
  });

  it('from payment_failed too; then it cannot be paid again', async () => {
    const { order, paymentId } = await chargeInFlight();
    ok(await api.gql(Q.payResult, { paymentId, succeeded: false, reason: 'card declined' }, tokens.service));
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    expect((await paymentsOf(order.id)).status).toBe('cancelled');
    await expectRefused('alice', Q.pay, { orderId: order.id }, 'ILLEGAL_TRANSITION');
  });

  it('not after approval (ILLEGAL_TRANSITION, nothing written), not twice, not of another customer, not by the restaurant', async () => {
    const approved = await orderAt(api, tokens, 'approved');
    expect(await expectRefused('alice', CANCEL, { orderId: approved.id }, 'ILLEGAL_TRANSITION')).toBe(
      `Order ${approved.id} is approved; cancelOrder needs status placed or validated or payment_failed or paid`,
    );
    const paid = await orderAt(api, tokens, 'paid');
    await expectRefused('bob', CANCEL, { orderId: paid.id }, 'FORBIDDEN');
    await expectRefused('napoli', CANCEL, { orderId: paid.id }, 'FORBIDDEN');
    ok(await api.gql(CANCEL, { orderId: paid.id }, tokens.alice));
    await expectRefused('alice', CANCEL, { orderId: paid.id }, 'ILLEGAL_TRANSITION');
    await expectRefused('napoli', Q.approve, { orderId: paid.id }, 'ILLEGAL_TRANSITION');
  });
});

describe('decline by the service (the restaurant never answered)', () => {
  it('with reason restaurant_timeout: declined, the reason on the order and the event', async () => {
    const order = await orderAt(api, tokens, 'paid');
    const declined = ok(await api.gql<{ declineOrder: OrderView }>(Q.decline, { orderId: order.id, reason: 'restaurant_timeout' }, tokens.service)).declineOrder;
    expect(declined).toMatchObject({ status: 'declined', statusReason: 'restaurant_timeout' });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({ type: 'order.declined', payload: { reason: 'restaurant_timeout' } });
  });

  it('restaurant_timeout is the service reason alone, and the service has no other (BAD_USER_INPUT, nothing written)', async () => {
    const order = await orderAt(api, tokens, 'paid');
    expect(await expectRefused('service', Q.decline, { orderId: order.id, reason: 'too busy' }, 'BAD_USER_INPUT')).toBe(
      'the service declines only with reason restaurant_timeout',
    );
    expect(await expectRefused('napoli', Q.decline, { orderId: order.id, reason: 'restaurant_timeout' }, 'BAD_USER_INPUT')).toBe(
      "restaurant_timeout is the service's reason",
    );
    await expectRefused('alice', Q.decline, { orderId: order.id, reason: 'restaurant_timeout' }, 'FORBIDDEN');
  });
});

describe('a charge that lands after the cancel', () => {
  it('succeeded: the payment settles, the order stays cancelled (customer_cancel), payment.captured_after_cancel', async () => {
    const { order, paymentId } = await chargeInFlight();
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    const after = ok(await api.gql<{ recordPaymentResult: OrderView }>(Q.payResult, { paymentId, succeeded: true, providerRef: 'ch_late' }, tokens.service))
      .recordPaymentResult;
    expect(after).toMatchObject({ status: 'cancelled', statusReason: 'customer_cancel', payments: [{ id: paymentId, status: 'succeeded' }] });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({
      type: 'payment.captured_after_cancel',
      payload: { status: 'cancelled', paymentId, providerRef: 'ch_late' },
    });
    // Settled once: a redelivered charge finds it settled.
    await expectRefused('service', Q.payResult, { paymentId, succeeded: true, providerRef: 'ch_late' }, 'CONFLICT');
  });

  it('failed: the payment fails, the order stays cancelled, payment.failed_after_cancel', async () => {
    const { order, paymentId } = await chargeInFlight();
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    ok(await api.gql(Q.payResult, { paymentId, succeeded: false, reason: 'card declined' }, tokens.service));
    expect(await paymentsOf(order.id)).toMatchObject({ status: 'cancelled', statusReason: 'customer_cancel', payments: [{ status: 'failed' }] });
    expect((await typesOf(order.id)).at(-1)).toBe('payment.failed_after_cancel');
  });
});

describe('reserveRefund and recordRefund (the refund step: reserve, then the write-back)', () => {
  it('of a declined order: reserved (refunding, declined, the key on the payment, refund.requested), then refunded (refund.succeeded + order.refunded)', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: order.id, reason: 'out of dough' }, tokens.napoli));
    const key = randomUUID();
    const reserved = ok(await reserve(order.id, key)).reserveRefund;
    expect(reserved).toMatchObject({ status: 'refunding', statusReason: 'declined', version: order.version + 2 });
    const [payment] = (await paymentsOf(order.id)).payments;
    // Reserved, not refunded: the payment is still captured, and holds the key the provider will be called with.
    expect(await refundKeyOf(order.id)).toEqual({ status: 'succeeded', refund_key: key });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({
      type: 'refund.requested',
      payload: { status: 'refunding', paymentId: payment!.id, amountCents: order.totalCents, idempotencyKey: key, reason: 'declined' },
    });

    const refunded = ok(await record(order.id, key, 're_1')).recordRefund;
    expect(refunded).toMatchObject({ status: 'refunded', statusReason: 'declined', version: order.version + 3 });
    const { payments } = await paymentsOf(order.id);
    expect(payments).toEqual([expect.objectContaining({ status: 'refunded', providerRef: 'ch_1', refundProviderRef: 're_1' })]);
    expect(payments[0]!.refundedAt).not.toBeNull();
    expect(await refundKeyOf(order.id)).toEqual({ status: 'refunded', refund_key: key });
    const events = (await eventsOf(db, order.id)).slice(-2);
    expect(events.map((e) => e.type)).toEqual(['refund.succeeded', 'order.refunded']);
    for (const e of events) {
      expect(e.payload).toMatchObject({ status: 'refunded', paymentId: payments[0]!.id, amountCents: order.totalCents, refundRef: 're_1', idempotencyKey: key, reason: 'declined' });
    }
  });

  it('the reservation is idempotent by its key: again with it succeeds and writes nothing; another key is CONFLICT, for a reserve and a write-back', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    const key = randomUUID();
    const first = ok(await reserve(order.id, key)).reserveRefund;
    const before = await writeState(db);
    // The step invoked again after a crash between its reserve and the provider.
    expect(ok(await reserve(order.id, key)).reserveRefund).toMatchObject({ status: 'refunding', statusReason: 'customer_cancel', version: first.version });
    expect(await writeState(db)).toEqual(before);
    const other = randomUUID();
    expect(await expectRefused('service', RESERVE, { orderId: order.id, idempotencyKey: other }, 'CONFLICT')).toBe(
      `Order ${order.id}'s refund is reserved under another idempotency key`,
    );
    expect(await expectRefused('service', REFUND, { orderId: order.id, idempotencyKey: other, refundRef: 're_other' }, 'CONFLICT')).toBe(
      `Order ${order.id}'s refund is reserved under another idempotency key`,
    );
    expect(await refundKeyOf(order.id)).toEqual({ status: 'succeeded', refund_key: key });
    expect(ok(await record(order.id, key)).recordRefund).toMatchObject({ status: 'refunded', statusReason: 'customer_cancel' });
  });

  it('the write-back is idempotent by its key: the same key again is CONFLICT and writes nothing; another key finds it refunded', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: order.id, reason: 'closed' }, tokens.napoli));
    const key = randomUUID();
    ok(await reserve(order.id, key));
    ok(await record(order.id, key, 're_2'));
    const again = await expectRefused('service', REFUND, { orderId: order.id, idempotencyKey: key, refundRef: 're_2' }, 'CONFLICT');
    expect(again).toMatch(new RegExp(`^Refund ${key} is already recorded`));
    await expectRefused('service', REFUND, { orderId: order.id, idempotencyKey: randomUUID(), refundRef: 're_3' }, 'ILLEGAL_TRANSITION');
    await expectRefused('service', RESERVE, { orderId: order.id, idempotencyKey: randomUUID() }, 'ILLEGAL_TRANSITION');
  });

  it('the same key concurrently: one reservation, one refund', async () => {
    const order = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: order.id, reason: 'closed' }, tokens.napoli));
    const key = randomUUID();
    const reserves = await Promise.all(Array.from({ length: 4 }, () => reserve(order.id, key)));
    for (const r of reserves) expect(ok(r).reserveRefund.status).toBe('refunding');
    const vars = { orderId: order.id, idempotencyKey: key, refundRef: 're_twin' };
    const results = await Promise.all(Array.from({ length: 4 }, () => api.gql(REFUND, vars, tokens.service)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.extensions?.code).toBe('CONFLICT');
    const types = await typesOf(order.id);
    expect([types.filter((t) => t === 'refund.requested'), types.filter((t) => t === 'refund.succeeded')]).toEqual([['refund.requested'], ['refund.succeeded']]);
  });

  it('the reason comes from the state: restaurant_timeout, customer_cancel; an approved order needs one (no_driver)', async () => {
    const timedOut = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: timedOut.id, reason: 'restaurant_timeout' }, tokens.service));
    // A reason given is ignored where the state says why.
    expect((await refund(timedOut.id, 'no_driver')).statusReason).toBe('restaurant_timeout');

    const cancelled = await orderAt(api, tokens, 'paid');
    ok(await api.gql(CANCEL, { orderId: cancelled.id }, tokens.alice));
    expect((await refund(cancelled.id)).statusReason).toBe('customer_cancel');

    const approved = await orderAt(api, tokens, 'approved');
    await expectRefused('service', RESERVE, { orderId: approved.id, idempotencyKey: randomUUID() }, 'BAD_USER_INPUT');
    expect(await refund(approved.id, 'no_driver')).toMatchObject({ status: 'refunded', statusReason: 'no_driver' });
    await expectRefused('service', Q.assign, { orderId: approved.id, driverId: ids.dana }, 'ILLEGAL_TRANSITION');
  });

  it('a refunding order takes no driver and no cancel (ILLEGAL_TRANSITION, nothing written), and is not written back without its reservation', async () => {
    const approved = await orderAt(api, tokens, 'approved');
    ok(await reserve(approved.id, randomUUID(), 'no_driver'));
    expect(await expectRefused('service', Q.assign, { orderId: approved.id, driverId: ids.dana }, 'ILLEGAL_TRANSITION')).toBe(
      `Order ${approved.id} is refunding; assignDriver needs status approved`,
    );
    const [row] = await db.sql`select driver_id from orders where id = ${approved.id}`;
    expect(row).toEqual({ driver_id: null });
    const paid = await orderAt(api, tokens, 'paid');
    ok(await reserve(paid.id, randomUUID(), 'restaurant_timeout'));
    await expectRefused('alice', CANCEL, { orderId: paid.id }, 'ILLEGAL_TRANSITION');
    const declined = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: declined.id, reason: 'closed' }, tokens.napoli));
    // Never reserved: the write-back alone moves nothing.
    expect(await expectRefused('service', REFUND, { orderId: declined.id, idempotencyKey: randomUUID(), refundRef: 're_z' }, 'ILLEGAL_TRANSITION')).toBe(
      `Order ${declined.id} is declined; recordRefund needs status refunding`,
    );
  });

  it('of a late charge on a cancelled order: refunded (customer_cancel)', async () => {
    const { order, paymentId } = await chargeInFlight();
    ok(await api.gql(CANCEL, { orderId: order.id }, tokens.alice));
    ok(await api.gql(Q.payResult, { paymentId, succeeded: true, providerRef: 'ch_late' }, tokens.service));
    expect(await refund(order.id)).toMatchObject({ status: 'refunded', statusReason: 'customer_cancel', payments: [{ status: 'refunded' }] });
  });

  it('refuses what cannot be refunded, writing nothing: no captured payment, a driver already assigned, another role', async () => {
    const unpaid = await placeNapoliOrder(api, tokens.alice);
    ok(await api.gql(CANCEL, { orderId: unpaid.id }, tokens.alice));
    const vars = { idempotencyKey: randomUUID() };
    expect(await expectRefused('service', RESERVE, { orderId: unpaid.id, ...vars }, 'CONFLICT')).toBe(`Order ${unpaid.id} has no captured payment to refund`);
    const assigned = await orderAt(api, tokens, 'driver_assigned');
    await expectRefused('service', RESERVE, { orderId: assigned.id, ...vars, reason: 'no_driver' }, 'ILLEGAL_TRANSITION');
    const declined = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: declined.id, reason: 'closed' }, tokens.napoli));
    await expectRefused('alice', RESERVE, { orderId: declined.id, ...vars }, 'FORBIDDEN');
    const key = randomUUID();
    ok(await reserve(declined.id, key));
    await expectRefused('alice', REFUND, { orderId: declined.id, idempotencyKey: key, refundRef: 're_y' }, 'FORBIDDEN');
  });
});

describe('races: of two actors on one paid order exactly one wins, and the loser writes nothing', () => {
  const ROUNDS = 8;

  async function race(other: { who: keyof Tokens; query: string; vars: (orderId: string) => Record<string, unknown>; status: string; event: string }) {
    const tally = { approve: 0, other: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const order = await orderAt(api, tokens, 'paid');
      const [approve, rival] = await Promise.all([
        api.gql(Q.approve, { orderId: order.id }, tokens.napoli),
        api.gql(other.query, other.vars(order.id), tokens[other.who]),
      ]);
      const winners = [approve, rival].filter((r) => !r.errors);
      expect(winners, JSON.stringify([approve.errors, rival.errors])).toHaveLength(1);
      const loser = approve.errors ? approve : rival;
      expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain(loser.errors![0]!.extensions?.code);
      const won = approve.errors ? 'other' : 'approve';
      tally[won]++;
      const types = (await typesOf(order.id)).slice(4);
      expect(types).toEqual([won === 'approve' ? 'order.approved' : other.event]);
      const [row] = await db.sql`select status, version from orders where id = ${order.id}`;
      expect(row).toEqual({ status: won === 'approve' ? 'approved' : other.status, version: order.version + 1 });
    }
    return tally;
  }

  it('approve against the timeout decline', async () => {
    const tally = await race({ who: 'service', query: Q.decline, vars: (orderId) => ({ orderId, reason: 'restaurant_timeout' }), status: 'declined', event: 'order.declined' });
    expect(tally.approve + tally.other).toBe(ROUNDS);
  });

  it('approve against cancel', async () => {
    const tally = await race({ who: 'alice', query: CANCEL, vars: (orderId) => ({ orderId }), status: 'cancelled', event: 'order.cancelled' });
    expect(tally.approve + tally.other).toBe(ROUNDS);
  });

  it('a late driver assignment against the refund reservation on an approved order: the driver or the refund, never both', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const order = await orderAt(api, tokens, 'approved');
      const key = randomUUID();
      const [assign, reserved] = await Promise.all([api.gql(Q.assign, { orderId: order.id, driverId: ids.dana }, tokens.service), reserve(order.id, key, 'no_driver')]);
      const winners = [assign, reserved].filter((r) => !r.errors);
      expect(winners, JSON.stringify([assign.errors, reserved.errors])).toHaveLength(1);
      const loser = assign.errors ? assign : reserved;
      expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain(loser.errors![0]!.extensions?.code);
      const assigned = !assign.errors;
      // Past the five events that brought it to approved: the winner's alone.
      expect((await typesOf(order.id)).slice(5)).toEqual([assigned ? 'order.driver_assigned' : 'refund.requested']);
      const [row] = await db.sql`
        select o.status, o.driver_id, p.refund_key, (select count(*)::int from driver_assignments where order_id = o.id) as assignments
        from orders as o join payments as p on p.order_id = o.id where o.id = ${order.id}`;
      expect(row).toEqual(
        assigned
          ? { status: 'driver_assigned', driver_id: ids.dana, refund_key: null, assignments: 1 }
          : { status: 'refunding', driver_id: null, refund_key: key, assignments: 0 },
      );
    }
  });
});
