/**
 * The causal chain across separate processes: the API (real HTTP, in this
 * process), `dispatch` and `handlers` as child processes, as an operator runs
 * them. An order goes from placed to driver_assigned; every event a handler's
 * write-back commits records the event and the delivery that caused it
 * (caused_by_event, caused_by_delivery), and the client's own events record
 * none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startChain, type Chain } from '../support/chain.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ids, ok, Q, seeded, tokensFor, type OrderView, type Tokens } from '../support/orders.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
let chain: Chain | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
  tokens = await tokensFor(api);
  chain = await startChain(db, api);
}, 90_000);

afterAll(async () => {
  await chain?.stop();
  await api?.close();
  await db?.drop();
});

interface LoggedEvent {
  id: string;
  type: string;
  caused_by_event: string | null;
  caused_by_delivery: string | null;
}

const eventsOf = (orderId: string) =>
  db.sql<LoggedEvent[]>`
    select id, type, caused_by_event, caused_by_delivery from threefactor.events
    where aggregate_type = 'order' and aggregate_id = ${orderId} order by xid, seq`;

async function untilEvent(orderId: string, type: string): Promise<LoggedEvent[]> {
  await waitFor(async () => (await eventsOf(orderId)).some((e) => e.type === type), `${type} for ${orderId}`, 30_000);
  return eventsOf(orderId);
}

/** The delivery of `eventId` to `trigger`. */
async function deliveryId(eventId: string, trigger: string): Promise<string> {
  const [row] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where event_id = ${eventId} and trigger_name = ${trigger}`;
  expect(row, `no delivery of ${eventId} to ${trigger}`).toBeDefined();
  return row!.id;
}

describe('API, dispatcher and handlers as separate processes', () => {
  it("each write-back's event records the event and delivery its handler ran for; the clients' events none", async () => {
    const input = { restaurantId: ids.napoli, deliveryAddress: '21 Chain St', items: [{ menuItemId: ids.margherita, quantity: 1 }] };
    const order = ok(await api.gql<{ placeOrder: OrderView }>(Q.place, { input }, tokens.alice)).placeOrder;
    await untilEvent(order.id, 'order.validated');
    ok(await api.gql(Q.pay, { orderId: order.id }, tokens.alice));
    await untilEvent(order.id, 'order.paid');
    // The order workflow now owns it: approve once it waits for the restaurant.
    await waitFor(
      async () => (await db.sql`select 1 from threefactor.workflow_instances where key = ${order.id} and status = 'waiting'`).length === 1,
      'the order workflow waiting',
      20_000,
    );
    ok(await api.gql(Q.approve, { orderId: order.id }, tokens.napoli));
    const events = await untilEvent(order.id, 'order.driver_assigned');

    const byType = (type: string) => events.find((e) => e.type === type)!;
    // The step's call event, which the approval that ended the wait caused.
    const [step] = await db.sql<{ id: string; caused_by_event: string | null }[]>`
      select e.id, e.caused_by_event from threefactor.workflow_steps s
      join threefactor.workflow_instances i on i.id = s.instance_id join threefactor.events e on e.id = s.id
      where i.key = ${order.id} and s.name = 'assign-driver'`;
    const [placed, requested, approved] = [byType('order.placed'), byType('payment.requested'), byType('order.approved')];
    const caused = (cause: LoggedEvent, delivery: string) => ({ caused_by_event: cause.id, caused_by_delivery: delivery });
    const none = { caused_by_event: null, caused_by_delivery: null };
    expect(events.map(({ type, caused_by_event, caused_by_delivery }) => ({ type, caused_by_event, caused_by_delivery }))).toEqual([
      { type: 'order.placed', ...none },
      { type: 'order.validated', ...caused(placed, await deliveryId(placed.id, 'validate-order')) },
      { type: 'payment.requested', ...none },
      { type: 'order.paid', ...caused(requested, await deliveryId(requested.id, 'charge-payment')) },
      { type: 'order.approved', ...none },
      // assign-driver is a step of the order workflow: its write-back is caused by the step's event and its delivery.
      { type: 'order.driver_assigned', caused_by_event: step!.id, caused_by_delivery: await deliveryId(step!.id, 'workflow.order-fulfilment.v1.assign-driver') },
    ]);
    expect(step!.caused_by_event).toBe(approved.id);
  }, 60_000);
});
