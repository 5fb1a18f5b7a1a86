/**
 * The whole order lifecycle over real HTTP: each step by the role the
 * architecture names, each leaving exactly one new event in the log with the
 * new state, the actor's session and the request's trace context.
 */
import { describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { eventsOf, ids, ok, placeNapoliOrder, Q, writeState, type OrderView, type Tokens } from '../support/orders.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;

useTestApi({ seed: true }, (env) => ({ db, api, tokens } = env));

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = (n: number) => `00-${TRACE_ID}-${n.toString(16).padStart(16, '0')}-01`;

describe('order lifecycle, placed → delivered', () => {
  it('each step by its role writes exactly one event carrying the new state, session and trace', async () => {
    let orderId = '';
    let step = 0;
    let paymentId = '';

    /** Run one mutation and return the one event it added to the whole log. */
    async function run<T>(
      query: string,
      variables: Record<string, unknown>,
      who: keyof Tokens,
      pick: (data: T) => OrderView,
    ): Promise<{ order: OrderView; event: Awaited<ReturnType<typeof eventsOf>>[number] }> {
      step++;
      const before = await writeState(db);
      const res = await api.gql<T>(query, variables, tokens[who], { traceparent: traceparent(step) });
      const order = pick(ok(res));
      orderId ||= order.id;
      expect((await writeState(db)).events).toBe(before.events + 1);
      const events = await eventsOf(db, orderId);
      return { order, event: events[events.length - 1]! };
    }

    const expectEvent = (
      { order, event }: Awaited<ReturnType<typeof run>>,
      type: string,
      role: string,
      sub: string,
      extra: Record<string, unknown> = {},
    ) => {
      expect(event.type).toBe(type);
      expect(event.aggregateType).toBe('order');
      expect(event.aggregateId).toBe(order.id);
      expect(event.payload).toEqual({
        orderId: order.id,
        status: order.status,
        version: order.version,
        customerId: ids.alice,
        restaurantId: ids.napoli,
        driverId: order.driver?.id ?? null,
        totalCents: 2550,
        ...extra,
      });
      expect(event.session).toEqual({ 'x-hasura-role': role, 'x-hasura-user-id': sub });
      // The server continues the caller's trace with a span of its own.
      expect(event.traceContext?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      expect(event.traceContext?.traceparent).not.toBe(traceparent(step));
    };

    const placed = await run<{ placeOrder: OrderView }>(
      Q.place,
      {
        input: {
          restaurantId: ids.napoli,
          deliveryAddress: '  1 Test Lane ',
          items: [
            { menuItemId: ids.margherita, quantity: 2 },
            { menuItemId: ids.tiramisu, quantity: 1 },
          ],
        },
      },
      'alice',
      (d) => d.placeOrder,
    );
    expect(placed.order).toMatchObject({ status: 'placed', version: 1, totalCents: 2 * 950 + 650, driver: null, payments: [] });
    expectEvent(placed, 'order.placed', 'customer', ids.alice, {
      deliveryAddress: '1 Test Lane',
      items: [
        { menuItemId: ids.margherita, quantity: 2, unitPriceCents: 950 },
        { menuItemId: ids.tiramisu, quantity: 1, unitPriceCents: 650 },
      ],
    });

    const validated = await run<{ recordOrderValidation: OrderView }>(Q.validate, { orderId, valid: true }, 'service', (d) => d.recordOrderValidation);
    expect(validated.order).toMatchObject({ status: 'validated', version: 2 });
    expectEvent(validated, 'order.validated', 'service', 'payment-handler');

    const paid = await run<{ payOrder: { id: string; status: string; amountCents: number; order: OrderView } }>(
      Q.pay,
      { orderId },
      'alice',
      (d) => {
        paymentId = d.payOrder.id;
        expect(d.payOrder).toMatchObject({ status: 'pending', amountCents: 2550 });
        return { ...d.payOrder.order, totalCents: 2550, driver: null } as OrderView;
      },
    );
    expect(paid.order).toMatchObject({ status: 'validated', version: 3 });
    expectEvent(paid, 'payment.requested', 'customer', ids.alice, { paymentId, amountCents: 2550 });

    const charged = await run<{ recordPaymentResult: OrderView }>(
      Q.payResult,
      { paymentId, succeeded: true, providerRef: 'ch_123' },
      'service',
      (d) => d.recordPaymentResult,
    );
    expect(charged.order).toMatchObject({ status: 'paid', version: 4, payments: [{ id: paymentId, status: 'succeeded', amountCents: 2550 }] });
    expectEvent(charged, 'order.paid', 'service', 'payment-handler', { paymentId, amountCents: 2550, providerRef: 'ch_123' });

    const approved = await run<{ approveOrder: OrderView }>(Q.approve, { orderId }, 'napoli', (d) => d.approveOrder);
    expect(approved.order).toMatchObject({ status: 'approved', version: 5 });
    expectEvent(approved, 'order.approved', 'restaurant', ids.napoli);

    const assigned = await run<{ assignDriver: OrderView }>(Q.assign, { orderId, driverId: ids.dana }, 'service', (d) => d.assignDriver);
    expect(assigned.order).toMatchObject({ status: 'driver_assigned', version: 6, driver: { id: ids.dana } });
    expectEvent(assigned, 'order.driver_assigned', 'service', 'payment-handler');
    const [assignment] = await db.sql`select driver_id from driver_assignments where order_id = ${orderId}`;
    expect(assignment?.driver_id).toBe(ids.dana);

    const pickedUp = await run<{ pickUpOrder: OrderView }>(Q.pickUp, { orderId }, 'dana', (d) => d.pickUpOrder);
    expect(pickedUp.order).toMatchObject({ status: 'picked_up', version: 7 });
    expectEvent(pickedUp, 'order.picked_up', 'driver', ids.dana);

    const delivered = await run<{ deliverOrder: OrderView }>(Q.deliver, { orderId }, 'dana', (d) => d.deliverOrder);
    expect(delivered.order).toMatchObject({ status: 'delivered', version: 8 });
    expectEvent(delivered, 'order.delivered', 'driver', ids.dana);

    const log = await eventsOf(db, orderId);
    expect(log.map((e) => e.type)).toEqual([
      'order.placed',
      'order.validated',
      'payment.requested',
      'order.paid',
      'order.approved',
      'order.driver_assigned',
      'order.picked_up',
      'order.delivered',
    ]);
    expect(log.map((e) => e.payload.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // What the customer sees at the end agrees with the log.
    const seen = ok(await api.gql<{ order: OrderView }>(Q.order, { id: orderId }, tokens.alice)).order;
    expect(seen).toMatchObject({ status: 'delivered', version: 8, driver: { id: ids.dana } });
  });

  it('a committed placeOrder leaves exactly one event with the payload of the row it wrote', async () => {
    const before = await writeState(db);
    const order = await placeNapoliOrder(api, tokens.bob);
    const after = await writeState(db);
    expect(after).toMatchObject({
      orders: before.orders + 1,
      order_items: before.order_items + 2,
      events: before.events + 1,
    });
    const [row] = await db.sql`select * from orders where id = ${order.id}`;
    const events = await eventsOf(db, order.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({
      orderId: row!.id,
      status: row!.status,
      version: row!.version,
      customerId: row!.customer_id,
      restaurantId: row!.restaurant_id,
      driverId: row!.driver_id,
      totalCents: row!.total_cents,
    });
    expect(events[0]!.session).toEqual({ 'x-hasura-role': 'customer', 'x-hasura-user-id': ids.bob });
    expect(events[0]!.traceContext?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('the side branches: rejected, payment_failed then paid on retry, declined — each with its reason', async () => {
    const rejected = await placeNapoliOrder(api, tokens.alice);
    const r = ok(await api.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId: rejected.id, valid: false, reason: 'address outside area' }, tokens.service));
    expect(r.recordOrderValidation).toMatchObject({ status: 'rejected', statusReason: 'address outside area', version: 2 });
    expect((await eventsOf(db, rejected.id)).at(-1)).toMatchObject({ type: 'order.rejected', payload: { status: 'rejected', reason: 'address outside area' } });

    const order = await placeNapoliOrder(api, tokens.alice);
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service));
    const first = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    const failed = ok(await api.gql<{ recordPaymentResult: OrderView }>(Q.payResult, { paymentId: first.id, succeeded: false, reason: 'card declined' }, tokens.service));
    expect(failed.recordPaymentResult).toMatchObject({ status: 'payment_failed', statusReason: 'card declined' });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({
      type: 'order.payment_failed',
      payload: { status: 'payment_failed', paymentId: first.id, amountCents: 2550, reason: 'card declined' },
    });

    const retry = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    expect(retry.id).not.toBe(first.id);
    const paid = ok(await api.gql<{ recordPaymentResult: OrderView }>(Q.payResult, { paymentId: retry.id, succeeded: true, providerRef: 'ch_2' }, tokens.service));
    expect(paid.recordPaymentResult).toMatchObject({ status: 'paid', statusReason: null });
    expect(paid.recordPaymentResult.payments.map((p) => [p.id, p.status])).toEqual([
      [retry.id, 'succeeded'],
      [first.id, 'failed'],
    ]);

    const declined = ok(await api.gql<{ declineOrder: OrderView }>(Q.decline, { orderId: order.id, reason: 'out of mozzarella' }, tokens.napoli));
    expect(declined.declineOrder).toMatchObject({ status: 'declined', statusReason: 'out of mozzarella' });
    expect((await eventsOf(db, order.id)).at(-1)).toMatchObject({ type: 'order.declined', payload: { status: 'declined', reason: 'out of mozzarella' } });
  });
});
