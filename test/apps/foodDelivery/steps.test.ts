/**
 * The order's steps as plain functions, no GraphQL: each step by its actor
 * writes its row changes and exactly one event; a refused step throws a
 * DomainError carrying what clients are promised (docs/architecture.md,
 * "What a caller can rely on") and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { assignDriver } from '../../../src/apps/food-delivery/domain/driverAssignment.js';
import {
  approveOrder,
  declineOrder,
  deliverOrder,
  pickUpOrder,
  recordOrderValidation,
} from '../../../src/apps/food-delivery/domain/orderSteps.js';
import { payOrder, recordPaymentResult } from '../../../src/apps/food-delivery/domain/payments.js';
import { placeOrder } from '../../../src/apps/food-delivery/domain/placeOrder.js';
import type { TestDatabase } from '../../support/db.js';
import { eventsOf, ids, writeState } from '../../support/orders.js';
import { napoliOrder, orderAt, refusal, useDomainDatabase, type Actors } from './support.js';

let db: TestDatabase;
let actors: Actors;

useDomainDatabase((database, a) => {
  db = database;
  actors = a;
});

/** The DomainError of `work`, which must leave every table as it was. */
async function refusedCleanly(work: () => Promise<unknown>) {
  const before = await writeState(db);
  const error = await refusal(work());
  expect(await writeState(db)).toEqual(before);
  return error;
}

const MISSING = '00000000-0000-4000-8000-00ff00000001';

describe('the steps, placed → delivered', () => {
  it('each writes one event carrying the new state; a payment request keeps the status and bumps the version', async () => {
    const order = await placeOrder(actors.alice, napoliOrder);
    expect(order).toMatchObject({ status: 'placed', version: 1, totalCents: 2550, customerId: ids.alice, restaurantId: ids.napoli });
    await recordOrderValidation(actors.service, { orderId: order.id, valid: true });
    const payment = await payOrder(actors.alice, order.id);
    expect(payment).toMatchObject({ status: 'pending', amountCents: 2550, orderId: order.id });
    const [requested] = await db.sql`select status, version from orders where id = ${order.id}`;
    expect(requested).toEqual({ status: 'validated', version: 3 });
    await recordPaymentResult(actors.service, { paymentId: payment.id, succeeded: true, providerRef: 'ch_9' });
    await approveOrder(actors.napoli, order.id);
    await assignDriver(actors.service, { orderId: order.id, driverId: ids.dana });
    await pickUpOrder(actors.dana, order.id);
    const delivered = await deliverOrder(actors.dana, order.id);
    expect(delivered).toMatchObject({ status: 'delivered', version: 8, driverId: ids.dana });

    const log = await eventsOf(db, order.id);
    expect(log.map((e) => [e.type, e.payload.status, e.payload.version])).toEqual([
      ['order.placed', 'placed', 1],
      ['order.validated', 'validated', 2],
      ['payment.requested', 'validated', 3],
      ['order.paid', 'paid', 4],
      ['order.approved', 'approved', 5],
      ['order.driver_assigned', 'driver_assigned', 6],
      ['order.picked_up', 'picked_up', 7],
      ['order.delivered', 'delivered', 8],
    ]);
    for (const event of log) {
      expect(event.aggregateType).toBe('order');
      expect(event.payload).toMatchObject({ orderId: order.id, customerId: ids.alice, restaurantId: ids.napoli, totalCents: 2550 });
    }
    expect(log[2]!.payload).toMatchObject({ paymentId: payment.id, amountCents: 2550 });
    expect(log[3]!.payload).toMatchObject({ paymentId: payment.id, providerRef: 'ch_9' });
    expect(log[5]!.payload.driverId).toBe(ids.dana);
    // The caller's session is stamped on what it wrote.
    expect(log[4]!.session).toEqual({ 'x-hasura-role': 'restaurant', 'x-hasura-user-id': ids.napoli });
  });

  it('the side branches carry their reason on the order and in the event', async () => {
    const rejected = await placeOrder(actors.alice, napoliOrder);
    expect(await recordOrderValidation(actors.service, { orderId: rejected.id, valid: false, reason: 'outside the area' })).toMatchObject({
      status: 'rejected',
      statusReason: 'outside the area',
    });
    expect((await eventsOf(db, rejected.id)).at(-1)).toMatchObject({ type: 'order.rejected', payload: { reason: 'outside the area' } });

    const order = await orderAt(actors, 'validated');
    const first = await payOrder(actors.alice, order.id);
    const failed = await recordPaymentResult(actors.service, { paymentId: first.id, succeeded: false, reason: 'card declined' });
    expect(failed).toMatchObject({ status: 'payment_failed', statusReason: 'card declined' });
    expect((await eventsOf(db, order.id)).at(-1)?.payload).toMatchObject({ status: 'payment_failed', reason: 'card declined', paymentId: first.id });
    const retry = await payOrder(actors.alice, order.id);
    expect(await recordPaymentResult(actors.service, { paymentId: retry.id, succeeded: true })).toMatchObject({ status: 'paid', statusReason: null });
    expect(await declineOrder(actors.napoli, order.id, 'out of mozzarella')).toMatchObject({ status: 'declined', statusReason: 'out of mozzarella' });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({ type: 'order.declined', payload: { reason: 'out of mozzarella' } });
  });
});

describe('a step from the wrong status is ILLEGAL_TRANSITION with the current status', () => {
  it('approving a placed order', async () => {
    const order = await orderAt(actors, 'placed');
    const error = await refusedCleanly(() => approveOrder(actors.napoli, order.id));
    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', message: `Order ${order.id} is placed; approveOrder needs status paid` });
    expect(error.details).toEqual({ status: 'placed' });
  });

  it('paying before validation, validating twice, assigning before approval, delivering twice', async () => {
    const placed = await orderAt(actors, 'placed');
    expect((await refusedCleanly(() => payOrder(actors.alice, placed.id))).message).toBe(
      `Order ${placed.id} is placed; payOrder needs status validated or payment_failed`,
    );
    const validated = await orderAt(actors, 'validated');
    expect((await refusedCleanly(() => recordOrderValidation(actors.service, { orderId: validated.id, valid: true }))).details).toEqual({ status: 'validated' });
    const paid = await orderAt(actors, 'paid');
    expect((await refusedCleanly(() => assignDriver(actors.service, { orderId: paid.id, driverId: ids.dana }))).details).toEqual({ status: 'paid' });
    const delivered = await orderAt(actors, 'delivered');
    const twice = await refusedCleanly(() => deliverOrder(actors.dana, delivered.id));
    expect(twice).toMatchObject({ code: 'ILLEGAL_TRANSITION', message: `Order ${delivered.id} is delivered; deliverOrder needs status picked_up` });
  });
});

describe('CONFLICT: a pending payment, a settled one, an unavailable driver', () => {
  it('a second payOrder while one is pending names the pending payment', async () => {
    const order = await orderAt(actors, 'validated');
    const first = await payOrder(actors.alice, order.id);
    const error = await refusedCleanly(() => payOrder(actors.alice, order.id));
    expect(error).toMatchObject({ code: 'CONFLICT', message: `Order ${order.id} already has payment ${first.id} pending` });
    expect(error.details).toEqual({ paymentId: first.id });
  });

  it('recording a result for a settled payment says how it settled', async () => {
    const order = await orderAt(actors, 'validated');
    const payment = await payOrder(actors.alice, order.id);
    await recordPaymentResult(actors.service, { paymentId: payment.id, succeeded: false, reason: 'card declined' });
    const error = await refusedCleanly(() => recordPaymentResult(actors.service, { paymentId: payment.id, succeeded: true }));
    expect(error).toMatchObject({ code: 'CONFLICT', message: `Payment ${payment.id} is already failed` });
    expect(error.details).toEqual({ status: 'failed' });
  });

  it('an unavailable driver', async () => {
    const order = await orderAt(actors, 'approved');
    await db.sql`update drivers set available = false where id = ${ids.eli}`;
    try {
      const error = await refusedCleanly(() => assignDriver(actors.service, { orderId: order.id, driverId: ids.eli }));
      expect(error).toMatchObject({ code: 'CONFLICT', message: `Driver ${ids.eli} is not available` });
      expect(error.details).toEqual({});
    } finally {
      await db.sql`update drivers set available = true where id = ${ids.eli}`;
    }
  });

  it('of concurrent identical steps exactly one wins; the others lose with ILLEGAL_TRANSITION or CONFLICT', async () => {
    const order = await orderAt(actors, 'paid');
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => approveOrder(actors.napoli, order.id)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
      expect(['ILLEGAL_TRANSITION', 'CONFLICT']).toContain((lost.reason as { code?: string }).code);
    }
    expect((await eventsOf(db, order.id)).filter((e) => e.type === 'order.approved')).toHaveLength(1);
  });
});

describe('NOT_FOUND names the id; FORBIDDEN says whose it is not', () => {
  it('a missing order, payment or driver (UUID or not)', async () => {
    expect((await refusedCleanly(() => approveOrder(actors.napoli, MISSING))).details).toEqual({ id: MISSING });
    expect(await refusedCleanly(() => pickUpOrder(actors.dana, 'no-such-order'))).toMatchObject({ code: 'NOT_FOUND', message: 'Order no-such-order was not found' });
    expect(await refusedCleanly(() => recordPaymentResult(actors.service, { paymentId: MISSING, succeeded: true }))).toMatchObject({
      code: 'NOT_FOUND',
      message: `Payment ${MISSING} was not found`,
      details: { id: MISSING },
    });
    const approved = await orderAt(actors, 'approved');
    expect(await refusedCleanly(() => assignDriver(actors.service, { orderId: approved.id, driverId: MISSING }))).toMatchObject({ code: 'NOT_FOUND', details: { id: MISSING } });
  });

  it("another customer's, restaurant's or driver's order, whatever its status", async () => {
    const validated = await orderAt(actors, 'validated');
    const error = await refusedCleanly(() => payOrder(actors.bob, validated.id));
    expect(error).toMatchObject({ code: 'FORBIDDEN', message: `Order ${validated.id} is not yours` });
    expect(error.details).toEqual({});
    // Bob learns nothing of the status: a step from the wrong status is FORBIDDEN for him too.
    const placed = await orderAt(actors, 'placed');
    expect((await refusedCleanly(() => payOrder(actors.bob, placed.id))).code).toBe('FORBIDDEN');
    const paid = await orderAt(actors, 'paid');
    expect((await refusedCleanly(() => approveOrder(actors.sakura, paid.id))).code).toBe('FORBIDDEN');
    const assigned = await orderAt(actors, 'driver_assigned');
    expect((await refusedCleanly(() => pickUpOrder(actors.eli, assigned.id))).code).toBe('FORBIDDEN');
  });
});
