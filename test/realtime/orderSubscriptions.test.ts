/**
 * Order subscriptions driven by the real GraphQL mutations: the customer's
 * `order(id)`, the restaurant's and the driver's feeds, over graphql-ws and
 * SSE, with the same access rule as the `order` query. Every test ends its
 * sockets and streams afterwards, failed or not, so none leaks into the next.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { compareCursors } from '../../src/engine/events/cursor.js';
import { stateReads } from '../../src/engine/realtime/metrics.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { eventsOf, ids, ok, orderAt, placeNapoliOrder, Q, type OrderView, type Tokens } from '../support/orders.js';
import { clientSubscriptions, sseSubscribe, wsSession, type Feed, type SseSubscription, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const ORDER = `subscription Order($id: ID!, $afterVersion: Int) {
  order(id: $id, afterVersion: $afterVersion) { id status version statusReason driver { id } payments { status } }
}`;
const RESTAURANT_FEED = 'subscription($restaurantId: ID) { restaurantOrders(restaurantId: $restaurantId) { id status version } }';
const DRIVER_FEED = 'subscription { driverJobs { id status version } }';

type Live = { id: string; status: string; version: number };

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
const sessions: WsSession[] = [];
const streams: Array<SseSubscription<unknown>> = [];

function session(token: string | null): WsSession {
  const s = wsSession(api.url, token);
  sessions.push(s);
  return s;
}

async function sse<T>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<SseSubscription<T>> {
  const s = await sseSubscribe<T>(api.url, token, query, variables);
  streams.push(s as SseSubscription<unknown>);
  return s;
}

const hubListeners = (n: number) => waitFor(() => api.api.realtime.hub.stats().listeners >= n, `${n} hub listeners`);
const versionsOf = <K extends string>(feed: Feed<Record<K, Live>>, key: K) => feed.data.map((d) => d[key].version);
const hasVersion = <K extends string>(feed: Feed<Record<K, Live>>, key: K, version: number) =>
  feed.until((f) => f.data.some((d) => d[key].version === version), 10_000, `version ${version}`);

async function stateReadCount(): Promise<number> {
  return (await stateReads.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/**
 * Wait until the hub has dispatched every event of `orderId` so far: a feed
 * subscribed after this sees only later changes. (A feed carries what the
 * hub dispatches after it joins; an event committed just before, that the
 * hub had not reached yet, would reach it too: see 'feeds' below.)
 */
async function hubPast(orderId: string): Promise<void> {
  const last = (await eventsOf(db, orderId)).at(-1)!;
  const cursor = { xid: BigInt(last.xid), seq: BigInt(last.seq) };
  await waitFor(() => compareCursors(api.api.realtime.hub.position, cursor) >= 0, `the hub past ${last.type}`);
}

useTestApi({ seed: true }, (env) => ({ db, api, tokens } = env));
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.dispose()));
  for (const stream of streams.splice(0)) stream.close();
  await waitFor(() => api.api.realtime.stats().subscriptions === 0, 'every subscription of the test ended');
  await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'every hub listener of the test gone');
});

describe('order(id) through the whole lifecycle', () => {
  it('the customer (WS and SSE), the restaurant feed and the driver feed see every state in order', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const orderId = order.id;
    // The restaurant's feed must start after the placement for the exact expectation below.
    await hubPast(orderId);
    const aliceWs = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: orderId });
    const aliceSse = await sse<{ order: Live }>(tokens.alice, ORDER, { id: orderId });
    const napoli = session(tokens.napoli).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
    const dana = await sse<{ driverJobs: Live }>(tokens.dana, DRIVER_FEED);
    // The order's topic (shared by both of Alice's), the restaurant's and the driver's.
    await hubListeners(3);
    await hasVersion(aliceWs, 'order', 1);
    await hasVersion(aliceSse, 'order', 1);

    const versions = [order.version];
    const statuses = [order.status];
    const step = async (query: string, variables: Record<string, unknown>, who: keyof Tokens, field: string) => {
      const data = ok(await api.gql<Record<string, OrderView & { order?: OrderView }>>(query, variables, tokens[who]));
      const changed = data[field]!.order ?? data[field]!;
      versions.push(changed.version);
      statuses.push(changed.status);
      // Live state may skip a state a client is too slow for; wait, so this test sees every one.
      await hasVersion(aliceWs, 'order', changed.version);
      await hasVersion(aliceSse, 'order', changed.version);
      await hasVersion(napoli, 'restaurantOrders', changed.version);
    };
    await step(Q.validate, { orderId, valid: true }, 'service', 'recordOrderValidation');
    const payment = ok(await api.gql<{ payOrder: { id: string; order: OrderView } }>(Q.pay, { orderId }, tokens.alice)).payOrder;
    versions.push(payment.order.version);
    statuses.push(payment.order.status);
    await hasVersion(aliceWs, 'order', payment.order.version);
    await hasVersion(napoli, 'restaurantOrders', payment.order.version);
    await step(Q.payResult, { paymentId: payment.id, succeeded: true, providerRef: 'ch_1' }, 'service', 'recordPaymentResult');
    await step(Q.approve, { orderId }, 'napoli', 'approveOrder');
    await step(Q.assign, { orderId, driverId: ids.dana }, 'service', 'assignDriver');
    await hasVersion(dana, 'driverJobs', versions[versions.length - 1]!);
    await step(Q.pickUp, { orderId }, 'dana', 'pickUpOrder');
    await hasVersion(dana, 'driverJobs', versions[versions.length - 1]!);
    await step(Q.deliver, { orderId }, 'dana', 'deliverOrder');
    await hasVersion(dana, 'driverJobs', versions[versions.length - 1]!);

    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual([
      'placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered',
    ]);
    expect(versionsOf(aliceWs, 'order')).toEqual(versions);
    expect(versionsOf(aliceSse, 'order')).toEqual(versions);
    expect(aliceWs.data.map((d) => d.order.status)).toEqual(statuses);
    // The feed started after the order was placed: it has every change since.
    expect(versionsOf(napoli, 'restaurantOrders')).toEqual(versions.slice(1));
    // The driver sees the order from its assignment on.
    expect(dana.data.map((d) => d.driverJobs.status)).toEqual(['driver_assigned', 'picked_up', 'delivered']);
    for (const feed of [aliceWs, aliceSse, napoli, dana]) expect(feed.results.some((r) => r.errors)).toBe(false);
    aliceWs.unsubscribe();
    aliceSse.close();
    napoli.unsubscribe();
    dana.close();
    await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'every subscriber gone');
  });
});

describe('order(id) authorization', () => {
  it("refuses Bob Alice's order with FORBIDDEN over WebSocket and SSE, and sends him nothing", async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const overWs = session(tokens.bob).subscribe<{ order: Live }>(ORDER, { id: order.id });
    const overSse = await sse<{ order: Live }>(tokens.bob, ORDER, { id: order.id });
    await overWs.untilCompleted();
    await overSse.untilCompleted();
    for (const feed of [overWs, overSse]) {
      expect(feed.results).toHaveLength(1);
      expect(feed.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(feed.data).toEqual([]);
    }
    // A change afterwards reaches no one: nothing was left subscribed.
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(overWs.results).toHaveLength(1);
    expect(api.api.realtime.stats().subscriptions).toBe(0);
  });

  it('lets the restaurant, the service and the admin watch it; says NOT_FOUND and BAD_USER_INPUT for bad ids', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    for (const who of ['napoli', 'service', 'admin'] as const) {
      const feed = session(tokens[who]).subscribe<{ order: Live }>(ORDER, { id: order.id });
      await feed.untilCount(1);
      expect(feed.data[0]?.order.id).toBe(order.id);
      feed.unsubscribe();
    }
    const sakura = session(tokens.sakura).subscribe<{ order: Live }>(ORDER, { id: order.id });
    const missing = session(tokens.admin).subscribe<{ order: Live }>(ORDER, { id: '00000000-0000-4000-8000-00000000dead' });
    const malformed = session(tokens.admin).subscribe<{ order: Live }>(ORDER, { id: 'nope' });
    for (const feed of [sakura, missing, malformed]) await feed.untilCompleted();
    expect(sakura.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(missing.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(malformed.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a connection without a token', async () => {
    const ws = session(null);
    ws.subscribe(ORDER, { id: ids.alice });
    expect((await ws.closed).code).toBe(4401);
    const overSse = await sse(null, ORDER, { id: ids.alice });
    expect(overSse.status).toBe(401);
  });

  it('ends with FORBIDDEN when a change takes the order out of the viewer’s reach', async () => {
    const order = await orderAt(api, tokens, 'driver_assigned');
    const dana = session(tokens.dana).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await dana.untilCount(1);
    // An operator reassigns the order to Eli (no mutation does this; the rule must hold anyway).
    await db.sql.begin(async (tx) => {
      const [row] = await tx<{ version: number }[]>`
        update orders set driver_id = ${ids.eli}, version = version + 1 where id = ${order.id} returning version`;
      await tx`insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
        values ('order.driver_assigned', 'order', ${order.id},
                ${tx.json({ orderId: order.id, status: 'driver_assigned', version: row!.version, restaurantId: ids.napoli, driverId: ids.eli })})`;
    });
    await dana.untilCompleted();
    expect(dana.results).toHaveLength(2);
    expect(dana.results[1]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(dana.results[1]?.data ?? null).toBeNull();
  });
});

describe('order(id, afterVersion): resuming after a reconnect', () => {
  it('sends the current state at once only when it is newer than the client’s version', async () => {
    const order = await orderAt(api, tokens, 'validated');
    const upToDate = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id, afterVersion: order.version });
    const behind = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id, afterVersion: order.version - 1 });
    await behind.untilCount(1);
    expect(behind.data[0]?.order.version).toBe(order.version);
    await hubListeners(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upToDate.results).toEqual([]);

    const payment = ok(await api.gql<{ payOrder: { order: OrderView } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder;
    await upToDate.untilCount(1);
    expect(upToDate.data.map((d) => d.order.version)).toEqual([payment.order.version]);
    upToDate.unsubscribe();
    behind.unsubscribe();
  });
});

describe('shared reads', () => {
  it('many subscribers of one order (and its restaurant feed) cost one read per change', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const ws = session(tokens.alice);
    const watchers = Array.from({ length: 40 }, () => ws.subscribe<{ order: Live }>(ORDER, { id: order.id }));
    const admin = session(tokens.admin);
    const feeds = Array.from({ length: 10 }, () => admin.subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED, { restaurantId: ids.napoli }));
    for (const w of watchers) await w.untilCount(1);
    await waitFor(() => clientSubscriptions(api.api) === 50, '50 subscriptions');
    // Identical ones share an execution from the second on: Alice's 40 a solo and a group, the admin's 10 too.
    expect(api.api.ws.sharing()).toEqual({ groups: 2, subscribers: 48, solo: 2 });

    const before = await stateReadCount();
    const validated = ok(await api.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId: order.id, valid: true }, tokens.service))
      .recordOrderValidation;
    for (const w of watchers) await hasVersion(w, 'order', validated.version);
    for (const f of feeds) await hasVersion(f, 'restaurantOrders', validated.version);
    expect((await stateReadCount()) - before).toBe(1);
    for (const s of [...watchers, ...feeds]) s.unsubscribe();
  });
});

describe('feeds', () => {
  it("a restaurant's feed carries only its own orders; others may not subscribe to it", async () => {
    const sakura = session(tokens.sakura).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
    const napoli = session(tokens.napoli).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
    const spoof = session(tokens.sakura).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED, { restaurantId: ids.napoli });
    const customer = session(tokens.alice).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
    const unnamed = session(tokens.service).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
    for (const feed of [spoof, customer, unnamed]) await feed.untilCompleted();
    expect(spoof.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(customer.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(unnamed.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    await hubListeners(2);
    const order = await placeNapoliOrder(api, tokens.bob);
    await napoli.until((f) => f.data.some((d) => d.restaurantOrders.id === order.id));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sakura.results).toEqual([]);
    sakura.unsubscribe();
    napoli.unsubscribe();
  });

  it('carries a change committed just before it subscribed that the hub had not dispatched yet: the row as it is now, once', async () => {
    // An open transaction holds the log's horizon back: the hub is late, as under load.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding: Promise<unknown> | undefined;
    await new Promise<void>((started) => {
      holding = db.sql.begin(async (tx) => {
        await tx`select pg_current_xact_id()`;
        started();
        await held;
      });
    });
    try {
      const order = await placeNapoliOrder(api, tokens.bob);
      const napoli = session(tokens.napoli).subscribe<{ restaurantOrders: Live }>(RESTAURANT_FEED);
      await hubListeners(1);
      const [placed] = await eventsOf(db, order.id);
      expect(compareCursors(api.api.realtime.hub.position, { xid: BigInt(placed!.xid), seq: BigInt(placed!.seq) })).toBeLessThan(0);
      release();
      await napoli.until((f) => f.data.some((d) => d.restaurantOrders.id === order.id));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(napoli.data).toEqual([{ restaurantOrders: { id: order.id, status: 'placed', version: order.version } }]);
    } finally {
      release();
      await holding;
    }
  });
});
