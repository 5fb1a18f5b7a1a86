/**
 * The state machine holds under misuse and under races: a step from the
 * wrong status is ILLEGAL_TRANSITION, a settled payment can't be settled
 * again (CONFLICT), and of concurrent identical steps exactly one wins.
 * Every refusal leaves the database exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from '../../src/apps/food-delivery/db/schema.js';
import { canTransition, illegalTransitionMessage, TRANSITIONS, type Step } from '../../src/apps/food-delivery/domain/orderLifecycle.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { eventsOf, ids, ok, orderAt, Q, refused, writeState, type Tokens } from '../support/orders.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;

useTestApi({ seed: true, max: 20 }, (env) => ({ db, api, tokens } = env));

async function expectRefused(who: keyof Tokens, query: string, variables: Record<string, unknown>, code: string) {
  const before = await writeState(db);
  const res = await api.gql(query, variables, tokens[who]);
  const error = refused(res);
  expect(error.code, error.message).toBe(code);
  expect(await writeState(db)).toEqual(before);
  return { ...error, extensions: res.errors![0]!.extensions };
}

describe('the transition table', () => {
  it('is the diagram in docs/architecture.md', () => {
    const edges = (Object.keys(TRANSITIONS) as Step[]).flatMap((step) =>
      ORDER_STATUSES.filter((s) => canTransition(step, s)).map((from) => `${from}→${TRANSITIONS[step].to ?? from}`),
    );
    expect(new Set(edges)).toEqual(
      new Set([
        'placed→validated',
        'placed→rejected',
        'validated→validated', // payment requested
        'payment_failed→payment_failed', // payment requested again, or failed again
        'validated→paid',
        'payment_failed→paid',
        'validated→payment_failed',
        'paid→approved',
        'paid→declined',
        'approved→driver_assigned',
        'driver_assigned→picked_up',
        'picked_up→delivered',
        'placed→cancelled', // the customer, before approval
        'validated→cancelled',
        'payment_failed→cancelled',
        'paid→cancelled',
        'cancelled→cancelled', // a charge that lands after the cancel (captured or failed)
        'declined→refunding', // the refund step reserves the order before the provider refunds
        'cancelled→refunding',
        'approved→refunding',
        'paid→refunding',
        'refunding→refunded', // the refund's write-back, with the reserved key
      ]),
    );
    expect(illegalTransitionMessage('o1', 'delivered', 'approveOrder', 'approve')).toBe('Order o1 is delivered; approveOrder needs status paid');
  });
});

describe('illegal transitions (ILLEGAL_TRANSITION, nothing written)', () => {
  it('approving an order that is only placed', async () => {
    const order = await orderAt(api, tokens, 'placed');
    const error = await expectRefused('napoli', Q.approve, { orderId: order.id }, 'ILLEGAL_TRANSITION');
    expect(error.message).toBe(`Order ${order.id} is placed; approveOrder needs status paid`);
    expect(error.extensions?.status).toBe('placed');
  });

  it('delivering twice', async () => {
    const order = await orderAt(api, tokens, 'delivered');
    const error = await expectRefused('dana', Q.deliver, { orderId: order.id }, 'ILLEGAL_TRANSITION');
    expect(error.message).toBe(`Order ${order.id} is delivered; deliverOrder needs status picked_up`);
  });

  it('paying before validation, validating twice, assigning a driver before approval, picking up twice', async () => {
    const placed = await orderAt(api, tokens, 'placed');
    expect((await expectRefused('alice', Q.pay, { orderId: placed.id }, 'ILLEGAL_TRANSITION')).message).toBe(
      `Order ${placed.id} is placed; payOrder needs status validated or payment_failed`,
    );
    const validated = await orderAt(api, tokens, 'validated');
    await expectRefused('service', Q.validate, { orderId: validated.id, valid: false, reason: 'late' }, 'ILLEGAL_TRANSITION');
    const paid = await orderAt(api, tokens, 'paid');
    await expectRefused('service', Q.assign, { orderId: paid.id, driverId: ids.dana }, 'ILLEGAL_TRANSITION');
    const picked = await orderAt(api, tokens, 'picked_up');
    await expectRefused('dana', Q.pickUp, { orderId: picked.id }, 'ILLEGAL_TRANSITION');
  });

  it('a declined order stays declined', async () => {
    const paid = await orderAt(api, tokens, 'paid');
    ok(await api.gql(Q.decline, { orderId: paid.id, reason: 'closed early' }, tokens.napoli));
    await expectRefused('napoli', Q.approve, { orderId: paid.id }, 'ILLEGAL_TRANSITION');
    await expectRefused('alice', Q.pay, { orderId: paid.id }, 'ILLEGAL_TRANSITION');
  });
});

describe('payments settle once (CONFLICT)', () => {
  it('recording a result for an already-settled payment is CONFLICT and says how it settled', async () => {
    const order = await orderAt(api, tokens, 'paid');
    const [payment] = await db.sql`select id from payments where order_id = ${order.id}`;
    const again = await expectRefused('service', Q.payResult, { paymentId: payment!.id, succeeded: true, providerRef: 'ch_1' }, 'CONFLICT');
    expect(again.message).toBe(`Payment ${payment!.id} is already succeeded`);
    expect(again.extensions?.status).toBe('succeeded');
    await expectRefused('service', Q.payResult, { paymentId: payment!.id, succeeded: false, reason: 'late' }, 'CONFLICT');
  });

  it('a second payOrder while one is pending is CONFLICT', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const first = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const error = await expectRefused('alice', Q.pay, { orderId: order.id }, 'CONFLICT');
    expect(error.extensions?.paymentId).toBe(first.id);
  });

  it('a failed result needs a reason (BAD_USER_INPUT)', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const error = await expectRefused('service', Q.payResult, { paymentId: payment.id, succeeded: false }, 'BAD_USER_INPUT');
    expect(error.message).toBe('reason: is required when succeeded is false');
  });

  it('an unavailable driver is CONFLICT', async () => {
    const order = await orderAt(api, tokens, 'approved');
    await db.sql`update drivers set available = false where id = ${ids.eli}`;
    try {
      const error = await expectRefused('service', Q.assign, { orderId: order.id, driverId: ids.eli }, 'CONFLICT');
      expect(error.message).toBe(`Driver ${ids.eli} is not available`);
    } finally {
      await db.sql`update drivers set available = true where id = ${ids.eli}`;
    }
  });
});

describe('races: of concurrent identical steps exactly one wins', () => {
  const RACERS = 6;

  it('concurrent approveOrder: one approval, one event, version bumped once', async () => {
    const order = await orderAt(api, tokens, 'paid');
    const results = await Promise.all(Array.from({ length: RACERS }, () => api.gql(Q.approve, { orderId: order.id }, tokens.napoli)));
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.errors)) {
      expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain(loser.errors![0]!.extensions?.code);
    }
    const events = await eventsOf(db, order.id);
    expect(events.filter((e) => e.type === 'order.approved')).toHaveLength(1);
    const [row] = await db.sql`select status, version from orders where id = ${order.id}`;
    expect(row).toEqual({ status: 'approved', version: order.version + 1 });
  });

  it('concurrent payOrder: one pending payment, one payment.requested', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const results = await Promise.all(Array.from({ length: RACERS }, () => api.gql(Q.pay, { orderId: order.id }, tokens.alice)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const loser of results.filter((r) => r.errors)) expect(loser.errors![0]!.extensions?.code).toBe('CONFLICT');
    expect(await db.sql`select id from payments where order_id = ${order.id}`).toHaveLength(1);
    expect((await eventsOf(db, order.id)).filter((e) => e.type === 'payment.requested')).toHaveLength(1);
  });

  it('concurrent recordPaymentResult (a redelivered handler): one settles, the rest are CONFLICT', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) =>
        api.gql(Q.payResult, { paymentId: payment.id, succeeded: i % 2 === 0, providerRef: `ch_${i}`, reason: 'declined' }, tokens.service),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const loser of results.filter((r) => r.errors)) expect(loser.errors![0]!.extensions?.code).toBe('CONFLICT');
    const settled = (await eventsOf(db, order.id)).filter((e) => e.type === 'order.paid' || e.type === 'order.payment_failed');
    expect(settled).toHaveLength(1);
  });
});
