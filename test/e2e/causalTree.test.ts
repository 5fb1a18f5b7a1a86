/**
 * "What did my action cause?" through a whole order, with the API (real HTTP
 * and graphql-ws, in this process), `dispatch` and `handlers` as separate
 * processes: the customer who placed the order watches its causal tree grow
 * from order.placed through the validate-order delivery to order.validated,
 * settled exactly once; the next steps (pay, approve) are roots of their own
 * trees; another customer sees nothing of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startChain, type Chain } from '../support/chain.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ids, ok, Q, seeded, tokensFor, type OrderView, type Tokens } from '../support/orders.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
let chain: Chain | undefined;
const sessions: WsSession[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
  tokens = await tokensFor(api);
  chain = await startChain(db, api);
}, 90_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  await chain?.stop();
  await api?.close();
  await db?.drop();
});

const FIELDS = `rootId settled failed pending
  events { id type payload cause causedByEvent causedByDelivery depth }
  deliveries { id eventId trigger state settled attemptCount attempts { outcome httpStatus durationMs error } }`;

interface Tree {
  rootId: string;
  settled: boolean;
  failed: boolean;
  pending: number;
  events: Array<{ id: string; type: string; payload: unknown; cause: string; causedByEvent: string | null; causedByDelivery: string | null; depth: number }>;
  deliveries: Array<{ id: string; eventId: string; trigger: string; state: string; settled: boolean; attemptCount: number; attempts: Array<{ outcome: string; httpStatus: number | null; durationMs: number; error: string | null }> }>;
}

/** The ids of the events a mutation committed, from its response's extensions. */
function committed(result: object): string[] {
  return (result as { extensions?: { threefactor?: { events?: string[] } } }).extensions?.threefactor?.events ?? [];
}

async function settledTree(id: string, token: string): Promise<Tree> {
  let tree: Tree | null | undefined;
  await waitFor(async () => {
    tree = (await api.gql<{ causalTree: Tree | null }>(`query($id: ID!) { causalTree(eventId: $id) { ${FIELDS} } }`, { id }, token)).data?.causalTree;
    return tree?.settled === true;
  }, `the tree of ${id} to settle`, 30_000);
  return tree!;
}

describe('the causal tree of an order, across processes', () => {
  it('streams order.placed → validate-order ✓ → order.validated to the customer, settled exactly once', async () => {
    const input = { restaurantId: ids.napoli, deliveryAddress: '1 Tree St', items: [{ menuItemId: ids.margherita, quantity: 1 }] };
    const placed = await api.gql<{ placeOrder: OrderView }>(Q.place, { input }, tokens.alice);
    const order = ok(placed).placeOrder;
    const [rootId] = committed(placed);
    expect(rootId).toBeDefined();
    const session = wsSession(api.url, tokens.alice);
    sessions.push(session);
    const feed = session.subscribe<{ causalTree: Tree }>(`subscription($id: ID!) { causalTree(eventId: $id) { ${FIELDS} } }`, { id: rootId });
    await feed.untilCompleted(30_000);
    expect(feed.failure).toBeUndefined();
    const trees = feed.data.map((d) => d.causalTree);
    expect(trees.filter((t) => t.settled)).toHaveLength(1);
    const final = trees.at(-1)!;
    expect(final).toMatchObject({ rootId, settled: true, failed: false, pending: 0 });
    const [root, validated] = final.events;
    const validate = final.deliveries.find((d) => d.trigger === 'validate-order')!;
    expect(root).toMatchObject({ id: rootId, type: 'order.placed', cause: 'api', depth: 0, payload: null });
    expect(validated).toMatchObject({ type: 'order.validated', cause: 'delivery', causedByEvent: rootId, causedByDelivery: validate.id, depth: 1, payload: null });
    expect(validate).toMatchObject({ eventId: rootId, state: 'delivered', attemptCount: 1, attempts: [{ outcome: 'delivered', httpStatus: 200, error: null }] });
    expect(validate.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
    // Another customer: the same NOT_FOUND as for an event that does not exist.
    const theirs = await api.gql(`query($id: ID!) { causalTree(eventId: $id) { rootId } }`, { id: rootId }, tokens.bob);
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // The next steps are their own roots: the payment, caused by the customer, and the approval, by the restaurant.
    // order.paid starts the order workflow, so the payment's tree settles only once the workflow has ended: after
    // the approval, when its assign-driver step (a call of the workflow, in the payment's tree) has a driver.
    const paid = await api.gql(Q.pay, { orderId: order.id }, tokens.alice);
    ok(paid);
    // Paid, and its workflow waiting for the restaurant (the engine registers a wait when its runner reaches it).
    await waitFor(
      async () => (await db.sql`select 1 from threefactor.workflow_instances where key = ${order.id} and status = 'waiting'`).length === 1,
      'the order workflow waiting',
      30_000,
    );
    const approved = await api.gql(Q.approve, { orderId: order.id }, tokens.napoli);
    ok(approved);
    const payment = await settledTree(committed(paid)[0]!, tokens.alice);
    expect(payment.events.map((e) => [e.type, e.cause])).toEqual([
      ['payment.requested', 'api'],
      ['order.paid', 'delivery'],
      ['threefactor.workflow.step', 'workflow'],
      ['order.driver_assigned', 'delivery'],
    ]);
    expect(payment.deliveries.map((d) => [d.trigger, d.state])).toEqual([
      ['charge-payment', 'delivered'],
      ['workflow.order-fulfilment.v1.assign-driver', 'delivered'],
    ]);
    const approval = await settledTree(committed(approved)[0]!, tokens.napoli);
    expect(approval.events.map((e) => e.type)).toEqual(['order.approved']);
    expect((await api.gql(`query($id: ID!) { causalTree(eventId: $id) { rootId } }`, { id: approval.rootId }, tokens.alice)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // An operator sees the whole of it, payloads included.
    const whole = await settledTree(rootId!, tokens.admin);
    expect(whole.events[0]!.payload).toMatchObject({ orderId: order.id, status: 'placed' });
  }, 90_000);
});
