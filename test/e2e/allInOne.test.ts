/**
 * The whole 3factor chain in the one-process mode a newcomer starts with:
 * mutations write events, the in-process dispatcher delivers them to the
 * handler functions, which write back through the API, until delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { demoCustomers, demoDrivers, demoMenuItems, demoRestaurants } from '../../src/apps/food-delivery/db/demoData.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { startAllInOne, type CommandProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let proc: CommandProcess;
let graphqlUrl: string;

beforeAll(async () => {
  db = await freshDatabase();
  let baseUrl: string;
  ({ proc, baseUrl } = await startAllInOne(urlFor(db.name)));
  graphqlUrl = `${baseUrl}/graphql`;
});
afterAll(async () => {
  proc.child.kill('SIGTERM');
  await proc.exited;
  await db.drop();
});

async function gql<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

/** Wait until the order reaches `status`, woken by the event log's notifications rather than a timer loop. */
async function statusReached(orderId: string, status: string, timeoutMs = 20_000): Promise<void> {
  const current = async () => (await db.sql<{ status: string }[]>`select status from orders where id = ${orderId}`)[0]?.status;
  let wake: () => void = () => {};
  const listener = await db.sql.listen('threefactor_events', () => wake());
  try {
    const deadline = Date.now() + timeoutMs;
    while ((await current()) !== status) {
      if (Date.now() > deadline) throw new Error(`order ${orderId} stuck at ${await current()}, expected ${status}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 500);
      });
    }
  } finally {
    await listener.unlisten();
  }
}

describe('npm start (all-in-one)', () => {
  it('runs an order from placed to delivered through handlers and write-backs', async () => {
    const customer = await mintToken(TEST_SECRET, { role: 'customer', sub: demoCustomers[0]!.id! });
    const restaurant = await mintToken(TEST_SECRET, { role: 'restaurant', sub: demoRestaurants[0]!.id! });
    const { placeOrder } = await gql<{ placeOrder: { id: string } }>(
      customer,
      `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`,
      { input: { restaurantId: demoRestaurants[0]!.id, items: [{ menuItemId: demoMenuItems[0]!.id, quantity: 2 }], deliveryAddress: '12 Main St' } },
    );
    const orderId = placeOrder.id;
    await statusReached(orderId, 'validated');
    await gql(customer, `mutation($id: ID!) { payOrder(orderId: $id) { id } }`, { id: orderId });
    await statusReached(orderId, 'paid');
    // The order workflow now owns it: approve once it waits for the restaurant (test/food-delivery/orderWorkflow.test.ts
    // approves at once).
    await waitFor(
      async () => (await db.sql`select 1 from threefactor.workflow_instances where key = ${orderId} and status = 'waiting'`).length === 1,
      'the order workflow waiting',
      20_000,
    );
    await gql(restaurant, `mutation($id: ID!) { approveOrder(orderId: $id) { id } }`, { id: orderId });
    await statusReached(orderId, 'driver_assigned');

    const [{ driver_id: driverId } = { driver_id: '' }] = await db.sql<{ driver_id: string }[]>`select driver_id from orders where id = ${orderId}`;
    expect(demoDrivers.map((d) => d.id)).toContain(driverId);
    const driver = await mintToken(TEST_SECRET, { role: 'driver', sub: driverId });
    await gql(driver, `mutation($id: ID!) { pickUpOrder(orderId: $id) { id } }`, { id: orderId });
    await gql(driver, `mutation($id: ID!) { deliverOrder(orderId: $id) { id status } }`, { id: orderId });
    await statusReached(orderId, 'delivered');

    const events = await db.sql<{ type: string; role: string }[]>`
      select type, session->>'x-hasura-role' as role from threefactor.events where aggregate_id = ${orderId} order by xid, seq`;
    expect(events).toEqual([
      { type: 'order.placed', role: 'customer' },
      { type: 'order.validated', role: 'service' },
      { type: 'payment.requested', role: 'customer' },
      { type: 'order.paid', role: 'service' },
      { type: 'order.approved', role: 'restaurant' },
      { type: 'order.driver_assigned', role: 'service' },
      { type: 'order.picked_up', role: 'driver' },
      { type: 'order.delivered', role: 'driver' },
    ]);
    const deliveries = await db.sql<{ trigger_name: string; status: string }[]>`
      select d.trigger_name, d.status from threefactor.deliveries d join threefactor.events e on e.id = d.event_id
      where e.aggregate_id = ${orderId} order by d.trigger_name`;
    expect(deliveries).toEqual([
      { trigger_name: 'charge-payment', status: 'delivered' },
      { trigger_name: 'validate-order', status: 'delivered' },
    ]);
    // The driver came from the order workflow's assign-driver step, a delivery of the step's own event. The instance
    // completes on its own delivered wait, a moment after the status above.
    await waitFor(
      async () => (await db.sql`select 1 from threefactor.workflow_instances where key = ${orderId} and workflow = 'order-fulfilment' and status = 'completed'`).length === 1,
      'the order workflow completed',
      20_000,
    );
    const steps = await db.sql<{ name: string; status: string; trigger_name: string | null; delivery: string | null }[]>`
      select s.name, s.status, d.trigger_name, d.status as delivery
      from threefactor.workflow_instances i join threefactor.workflow_steps s on s.instance_id = i.id
      left join threefactor.deliveries d on d.id = s.delivery_id
      where i.key = ${orderId} and i.workflow = 'order-fulfilment' and i.status = 'completed' order by s.step_index, s.started_at`;
    expect(steps.filter((s) => s.name === 'assign-driver')).toEqual([
      { name: 'assign-driver', status: 'completed', trigger_name: 'workflow.order-fulfilment.v1.assign-driver', delivery: 'delivered' },
    ]);
  }, 60_000);
});
