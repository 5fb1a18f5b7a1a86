/**
 * PostgreSQL stops and starts under a running API with live subscribers:
 * the subscriptions stay open, see no error, and converge to the final
 * state, including a change committed just before the server went down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { connect, type Database } from '../../src/engine/db/client.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { dedicatedPostgres, type DedicatedPostgres } from '../support/dedicatedPostgres.js';
import { testEvent, writeEvents } from '../support/eventLog.js';
import { ok, placeNapoliOrder, Q, tokensFor, type OrderView, type Tokens } from '../support/orders.js';
import { clientSubscriptions, sseSubscribe, wsSession, type WsSession } from '../support/subscriptions.js';
import { eventually, waitFor } from '../support/wait.js';

const EVENTS = 'subscription { events(filter: { aggregateId: "restart" }) { cursor payload } }';
const ORDER = 'subscription($id: ID!) { order(id: $id) { status version } }';

let pg: DedicatedPostgres;
let database: Database;
let api: TestApi;
let tokens: Tokens;
let ws: WsSession;

beforeAll(async () => {
  pg = await dedicatedPostgres();
  database = connect(pg.url, { max: 4 });
  await seedDemoData(database.db);
  api = await startTestApi(database);
  tokens = await tokensFor(api);
});
afterAll(async () => {
  await ws?.dispose();
  await api?.close();
  await database?.close(1);
  await pg?.destroy();
});

describe('PostgreSQL restarts under running subscriptions', () => {
  it('keeps WebSocket and SSE subscribers open, without errors, and they converge after the restart', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    ws = wsSession(api.url, tokens.admin);
    const eventsWs = ws.subscribe<{ events: { payload: { n: number } } }>(EVENTS);
    const eventsSse = await sseSubscribe<{ events: { payload: { n: number } } }>(api.url, tokens.admin, EVENTS);
    const orderWs = ws.subscribe<{ order: { status: string; version: number } }>(ORDER, { id: order.id });
    const orderSse = await sseSubscribe<{ order: { status: string; version: number } }>(api.url, tokens.alice, ORDER, { id: order.id });
    await waitFor(() => clientSubscriptions(api.api) === 4, 'four subscriptions');
    await orderWs.untilCount(1);
    await orderSse.untilCount(1);

    await writeEvents(database.sql, [testEvent(1, 'restart')]);
    await eventsWs.untilCount(1);
    await eventsSse.untilCount(1);

    // A change commits, and the server goes down before the hub may have read it.
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service));
    await pg.stop();
    // The hub's reads fail and its LISTEN connection is gone for a while.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await pg.start();

    // Writers may see an error or two while connections come back; that is theirs to retry, not the subscribers' concern.
    await eventually(() => writeEvents(database.sql, [testEvent(2, 'restart')]), 'a write after the restart');
    await eventually(() => writeEvents(database.sql, [testEvent(3, 'restart')]), 'a write after the restart');
    const paid = await eventually(async () => {
      const res = await api.gql<{ payOrder: { order: OrderView } }>(Q.pay, { orderId: order.id }, tokens.alice);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!.payOrder.order;
    }, 'payOrder after the restart');

    await eventsWs.untilCount(3, 20_000);
    await eventsSse.untilCount(3, 20_000);
    for (const feed of [orderWs, orderSse]) {
      await feed.until((f) => f.data.at(-1)?.order.version === paid.version, 20_000, 'the final order state');
      const versions = feed.data.map((d) => d.order.version);
      expect(versions).toEqual([...new Set(versions)].sort((x, y) => x - y));
      expect(feed.data.map((d) => d.order.status)).toContain('placed');
    }
    for (const feed of [eventsWs, eventsSse]) expect(feed.data.map((d) => d.events.payload.n)).toEqual([1, 2, 3]);
    for (const feed of [eventsWs, eventsSse, orderWs, orderSse]) {
      expect(feed.results.some((r) => r.errors)).toBe(false);
      expect(feed.completed).toBe(false);
    }
    eventsSse.close();
    orderSse.close();
  });
});
