/**
 * Food-delivery fixtures for tests: the seeded demo ids by name, tokens for
 * each actor, the GraphQL operations of the order lifecycle, and a snapshot
 * of everything a mutation can write, to prove a refused one wrote nothing.
 */
import { expect } from 'vitest';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { demoCustomers, demoDrivers, demoMenuItems, demoRestaurants } from '../../src/apps/food-delivery/db/demoData.js';
import type { EventRow } from '../../src/engine/db/schema/events.js';
import type { Role } from '../../src/engine/graphql/context.js';
import type { GqlResult, TestApi } from './api.js';
import type { TestDatabase } from './db.js';

const idOf = (rows: Array<{ id?: string }>, i: number): string => rows[i]!.id!;

export const ids = {
  alice: idOf(demoCustomers, 0),
  bob: idOf(demoCustomers, 1),
  napoli: idOf(demoRestaurants, 0),
  sakura: idOf(demoRestaurants, 1),
  elSol: idOf(demoRestaurants, 2),
  margherita: idOf(demoMenuItems, 0), // 950, Napoli
  diavola: idOf(demoMenuItems, 1), // 1150, Napoli
  tiramisu: idOf(demoMenuItems, 2), // 650, Napoli
  nigiri: idOf(demoMenuItems, 3), // 1200, Sakura
  churros: idOf(demoMenuItems, 8), // El Sol, unavailable
  dana: idOf(demoDrivers, 0),
  eli: idOf(demoDrivers, 1),
};

export const ORDER_FIELDS = `id status version totalCents deliveryAddress statusReason createdAt updatedAt
  customer { id } restaurant { id } driver { id } items { menuItemId name quantity unitPriceCents } payments { id status amountCents }`;

export const Q = {
  place: `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`,
  validate: `mutation($orderId: ID!, $valid: Boolean!, $reason: String) { recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { ${ORDER_FIELDS} } }`,
  pay: `mutation($orderId: ID!) { payOrder(orderId: $orderId) { id status amountCents order { id status version } } }`,
  payResult: `mutation($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {
    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { ${ORDER_FIELDS} } }`,
  approve: `mutation($orderId: ID!) { approveOrder(orderId: $orderId) { ${ORDER_FIELDS} } }`,
  decline: `mutation($orderId: ID!, $reason: String!) { declineOrder(orderId: $orderId, reason: $reason) { ${ORDER_FIELDS} } }`,
  assign: `mutation($orderId: ID!, $driverId: ID!) { assignDriver(orderId: $orderId, driverId: $driverId) { ${ORDER_FIELDS} } }`,
  pickUp: `mutation($orderId: ID!) { pickUpOrder(orderId: $orderId) { ${ORDER_FIELDS} } }`,
  deliver: `mutation($orderId: ID!) { deliverOrder(orderId: $orderId) { ${ORDER_FIELDS} } }`,
  order: `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`,
};

export interface OrderView {
  id: string;
  status: string;
  version: number;
  totalCents: number;
  statusReason: string | null;
  driver: { id: string } | null;
  payments: Array<{ id: string; status: string; amountCents: number }>;
}

/** The data of a result that must have succeeded; fails the test with the errors otherwise. */
export function ok<T>(res: GqlResult<T>): T {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data!;
}

/** The one error of a refused operation: its code and message. */
export function refused(res: GqlResult): { code: string | undefined; message: string } {
  expect(res.errors, `expected an error, got ${JSON.stringify(res.data)}`).toHaveLength(1);
  return { code: res.errors![0]!.extensions?.code, message: res.errors![0]!.message };
}

export type Tokens = Record<'alice' | 'bob' | 'napoli' | 'sakura' | 'dana' | 'eli' | 'service' | 'admin', string>;

export async function tokensFor(api: TestApi): Promise<Tokens> {
  const t = (role: Role, sub: string) => api.token(role, sub);
  return {
    alice: await t('customer', ids.alice),
    bob: await t('customer', ids.bob),
    napoli: await t('restaurant', ids.napoli),
    sakura: await t('restaurant', ids.sakura),
    dana: await t('driver', ids.dana),
    eli: await t('driver', ids.eli),
    service: await t('service', 'payment-handler'),
    admin: await t('admin', 'ops'),
  };
}

export async function seeded(db: TestDatabase): Promise<void> {
  await seedDemoData(db.db);
}

/** Counts of every row a mutation may write, plus the sum of order versions (catches updates). */
export interface WriteState {
  orders: number;
  order_versions: number;
  order_items: number;
  payments: number;
  settled_payments: number;
  driver_assignments: number;
  events: number;
}

export async function writeState(db: TestDatabase): Promise<WriteState> {
  const [row] = await db.sql<WriteState[]>`
    select (select count(*)::int from orders) as orders,
           (select coalesce(sum(version), 0)::int from orders) as order_versions,
           (select count(*)::int from order_items) as order_items,
           (select count(*)::int from payments) as payments,
           (select count(*)::int from payments where status <> 'pending') as settled_payments,
           (select count(*)::int from driver_assignments) as driver_assignments,
           (select count(*)::int from threefactor.events) as events`;
  return row!;
}

/** Events of one aggregate in log order. */
export async function eventsOf(db: TestDatabase, orderId: string): Promise<EventRow[]> {
  const rows = await db.sql`
    select id, seq, xid::text as xid, type, aggregate_type, aggregate_id, payload, session, trace_context, caused_by_event, caused_by_delivery, created_at
    from threefactor.events where aggregate_type = 'order' and aggregate_id = ${orderId} order by seq`;
  return rows.map((r) => ({
    id: r.id,
    seq: Number(r.seq),
    xid: r.xid,
    type: r.type,
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    payload: r.payload,
    session: r.session,
    traceContext: r.trace_context,
    causedByEvent: r.caused_by_event,
    causedByDelivery: r.caused_by_delivery,
    createdAt: r.created_at,
  }));
}

/** Place an order of Napoli's Margherita ×2 and Tiramisu ×1 (2550 cents) as `token`'s customer. */
export async function placeNapoliOrder(api: TestApi, token: string): Promise<OrderView> {
  const res = await api.gql<{ placeOrder: OrderView }>(
    Q.place,
    {
      input: {
        restaurantId: ids.napoli,
        deliveryAddress: '1 Test Lane',
        items: [
          { menuItemId: ids.margherita, quantity: 2 },
          { menuItemId: ids.tiramisu, quantity: 1 },
        ],
      },
    },
    token,
  );
  return ok(res).placeOrder;
}

export type Stage = 'placed' | 'validated' | 'paid' | 'approved' | 'driver_assigned' | 'picked_up' | 'delivered';

/** Drive a new Napoli order of `customer` (default Alice) up to `stage`, assigning Dana. */
export async function orderAt(api: TestApi, tokens: Tokens, stage: Stage, customer: keyof Tokens = 'alice'): Promise<OrderView> {
  const stages: Stage[] = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];
  let order = await placeNapoliOrder(api, tokens[customer]);
  for (const next of stages.slice(1, stages.indexOf(stage) + 1)) {
    const orderId = order.id;
    if (next === 'validated') order = ok(await api.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId, valid: true }, tokens.service)).recordOrderValidation;
    if (next === 'paid') {
      const payment = ok(await api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId }, tokens[customer])).payOrder;
      order = ok(await api.gql<{ recordPaymentResult: OrderView }>(Q.payResult, { paymentId: payment.id, succeeded: true, providerRef: 'ch_1' }, tokens.service)).recordPaymentResult;
    }
    if (next === 'approved') order = ok(await api.gql<{ approveOrder: OrderView }>(Q.approve, { orderId }, tokens.napoli)).approveOrder;
    if (next === 'driver_assigned') order = ok(await api.gql<{ assignDriver: OrderView }>(Q.assign, { orderId, driverId: ids.dana }, tokens.service)).assignDriver;
    if (next === 'picked_up') order = ok(await api.gql<{ pickUpOrder: OrderView }>(Q.pickUp, { orderId }, tokens.dana)).pickUpOrder;
    if (next === 'delivered') order = ok(await api.gql<{ deliverOrder: OrderView }>(Q.deliver, { orderId }, tokens.dana)).deliverOrder;
  }
  expect(order.status).toBe(stage);
  return order;
}
