/**
 * Identical live subscriptions over WebSocket (same document, variables and
 * viewer) share an execution from the second one on (the first runs solo);
 * different viewers never do; failures to start are not kept; the end of the
 * shared execution reaches everyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateReads, subscribers as executions } from '../../src/engine/realtime/metrics.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ids, ok, orderAt, placeNapoliOrder, Q, seeded, tokensFor, type OrderView, type Tokens } from '../support/orders.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const ORDER = 'subscription($id: ID!) { order(id: $id) { id status version } }';
const FEED = 'subscription($restaurantId: ID) { restaurantOrders(restaurantId: $restaurantId) { id status version } }';
type Live = { id: string; status: string; version: number };

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
const sessions: WsSession[] = [];

function session(token: string): WsSession {
  const s = wsSession(api.url, token);
  sessions.push(s);
  return s;
}

const gauge = async (kind: string) => (await executions.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
const reads = async () => (await stateReads.get()).values.reduce((sum, v) => sum + v.value, 0);

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
  tokens = await tokensFor(api);
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  await api?.close();
  await db?.drop();
});

describe('shared executions of identical subscriptions', () => {
  it('twenty clients of one restaurant feed cost two executions (the first solo, then one shared), and each gets every change', async () => {
    const executionsBefore = await gauge('restaurantOrders');
    const feeds = Array.from({ length: 20 }, () => session(tokens.napoli).subscribe<{ restaurantOrders: Live }>(FEED));
    await waitFor(() => api.api.ws.sharing().subscribers === 19, 'nineteen attached');
    expect(api.api.ws.sharing()).toEqual({ groups: 1, subscribers: 19, solo: 1 });
    expect((await gauge('restaurantOrders')) - executionsBefore).toBe(2);

    const readsBefore = await reads();
    const order = await placeNapoliOrder(api, tokens.alice);
    for (const feed of feeds) await feed.until((f) => f.data.some((d) => d.restaurantOrders.id === order.id));
    expect((await reads()) - readsBefore).toBe(1);
    for (const feed of feeds) expect(feed.data).toEqual([{ restaurantOrders: { id: order.id, status: 'placed', version: 1 } }]);

    for (const feed of feeds) feed.unsubscribe();
    await waitFor(() => api.api.ws.sharing().groups === 0 && api.api.ws.sharing().solo === 0, 'the shared execution ended with its last subscriber');
    await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'the feed left the hub');
  });

  it('runs a lone subscription solo, and a new one solo again once it is gone', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const first = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await first.untilCount(1);
    expect(api.api.ws.sharing()).toEqual({ groups: 0, subscribers: 0, solo: 1 });
    first.unsubscribe();
    await waitFor(() => api.api.ws.sharing().solo === 0, 'the solo forgotten');
    const again = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await again.untilCount(1);
    expect(api.api.ws.sharing()).toEqual({ groups: 0, subscribers: 0, solo: 1 });
    again.unsubscribe();
    await waitFor(() => api.api.ws.sharing().solo === 0, 'the solo forgotten');
  });

  it('never shares between viewers: a restaurant and an admin watching the same feed run apart', async () => {
    // Two identical subscriptions per viewer: each viewer's pair is one solo and one group.
    const asRestaurant = [0, 1].map(() => session(tokens.napoli).subscribe<{ restaurantOrders: Live }>(FEED));
    const asAdmin = [0, 1].map(() => session(tokens.admin).subscribe<{ restaurantOrders: Live }>(FEED, { restaurantId: ids.napoli }));
    const otherRestaurant = [0, 1].map(() => session(tokens.sakura).subscribe<{ restaurantOrders: Live }>(FEED));
    await waitFor(() => api.api.ws.sharing().groups === 3, 'three groups');
    expect(api.api.ws.sharing()).toEqual({ groups: 3, subscribers: 3, solo: 3 });
    const order = await placeNapoliOrder(api, tokens.bob);
    for (const f of [...asRestaurant, ...asAdmin]) await f.until((x) => x.data.some((d) => d.restaurantOrders.id === order.id));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const f of otherRestaurant) expect(f.results).toEqual([]);
    for (const f of [...asRestaurant, ...asAdmin, ...otherRestaurant]) f.unsubscribe();
    await waitFor(() => api.api.ws.sharing().groups === 0 && api.api.ws.sharing().solo === 0, 'groups ended');
  });

  it('gives a client joining a shared order(id) the current state at once, then the changes', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const first = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await first.untilCount(1);
    const validated = ok(await api.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId: order.id, valid: true }, tokens.service))
      .recordOrderValidation;
    await first.until((f) => f.data.some((d) => d.order.version === validated.version));

    // The second starts the group (its own first read), the third joins it and gets the group's newest result.
    const second = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await second.untilCount(1);
    const late = session(tokens.alice).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await late.untilCount(1);
    for (const feed of [second, late]) expect(feed.data[0]?.order).toEqual({ id: order.id, status: 'validated', version: validated.version });
    expect(api.api.ws.sharing()).toEqual({ groups: 1, subscribers: 2, solo: 1 });

    const paid = ok(await api.gql<{ payOrder: { order: OrderView } }>(Q.pay, { orderId: order.id }, tokens.alice)).payOrder.order;
    for (const feed of [first, second, late]) await feed.until((f) => f.data.at(-1)?.order.version === paid.version);
    expect(first.data.map((d) => d.order.version)).toEqual([1, validated.version, paid.version]);
    for (const feed of [second, late]) expect(feed.data.map((d) => d.order.version)).toEqual([validated.version, paid.version]);
    for (const feed of [first, second, late]) feed.unsubscribe();
    await waitFor(() => api.api.ws.sharing().groups === 0 && api.api.ws.sharing().solo === 0, 'group ended');
  });

  it('keeps no failure: two refused subscribers both get FORBIDDEN, and nothing stays shared', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const one = session(tokens.bob).subscribe<{ order: Live }>(ORDER, { id: order.id });
    const two = session(tokens.bob).subscribe<{ order: Live }>(ORDER, { id: order.id });
    await one.untilCompleted();
    await two.untilCompleted();
    for (const feed of [one, two]) {
      expect(feed.results).toHaveLength(1);
      expect(feed.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(api.api.ws.sharing()).toEqual({ groups: 0, subscribers: 0, solo: 0 });
  });

  it('ends every subscriber of a shared execution with FORBIDDEN when the order leaves the viewer’s reach', async () => {
    const order = await orderAt(api, tokens, 'driver_assigned');
    const watchers = Array.from({ length: 3 }, () => session(tokens.dana).subscribe<{ order: Live }>(ORDER, { id: order.id }));
    for (const w of watchers) await w.untilCount(1);
    expect(api.api.ws.sharing().groups).toBe(1);
    await db.sql.begin(async (tx) => {
      const [row] = await tx<{ version: number }[]>`
        update orders set driver_id = ${ids.eli}, version = version + 1 where id = ${order.id} returning version`;
      await tx`insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
        values ('order.driver_assigned', 'order', ${order.id},
                ${tx.json({ orderId: order.id, status: 'driver_assigned', version: row!.version, restaurantId: ids.napoli, driverId: ids.eli })})`;
    });
    for (const w of watchers) {
      await w.untilCompleted();
      expect(w.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    await waitFor(() => api.api.ws.sharing().groups === 0 && api.api.ws.sharing().solo === 0, 'group ended');
  });
});
