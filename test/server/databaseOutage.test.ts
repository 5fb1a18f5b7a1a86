/**
 * A database outage is retryable, and says so: while the test's own
 * PostgreSQL server is stopped, an operation that needs it fails with
 * UNAVAILABLE (HTTP 503 with Retry-After; an error on that one operation
 * over WebSocket and SSE, the socket staying open), not a masked internal
 * error. Once the server is back, the same clients succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { connect, type Database } from '../../src/engine/db/client.js';
import { startTestApi, type GqlResult, type TestApi } from '../support/api.js';
import { dedicatedPostgres, type DedicatedPostgres } from '../support/dedicatedPostgres.js';
import { ids, placeNapoliOrder, Q, tokensFor, type Tokens } from '../support/orders.js';
import { sseSubscribe, wsSession, type Result, type WsSession } from '../support/subscriptions.js';
import { eventually } from '../support/wait.js';

const ORDER = 'query($id: ID!) { order(id: $id) { id status } }';
const ORDER_LIVE = 'subscription($id: ID!) { order(id: $id) { id status } }';

let pg: DedicatedPostgres;
let database: Database;
let api: TestApi;
let tokens: Tokens;
let ws: WsSession | undefined;

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

/** A GraphQL POST with its response headers. */
async function post(query: string, variables: Record<string, unknown>, token: string): Promise<GqlResult & { retryAfter: string | null }> {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...((await res.json()) as Omit<GqlResult, 'status'>) };
}

/** One query over the WebSocket session: its single result. */
function wsQuery(session: WsSession, query: string, variables: Record<string, unknown>): Promise<Result> {
  const feed = session.subscribe(query, variables);
  return feed.until((f) => f.completed, 10_000, 'the query to complete').then(() => {
    if (feed.failure) throw new Error(`operation failed as a whole: ${JSON.stringify(feed.failure)}`);
    return feed.results[0]!;
  });
}

const codes = (result: { errors?: Array<{ extensions?: { code?: string } }> } | undefined) => result?.errors?.map((e) => e.extensions?.code);

describe('a database outage', () => {
  it('answers UNAVAILABLE over HTTP (503, Retry-After), WebSocket and SSE, and the same clients succeed once it is back', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    ws = wsSession(api.url, tokens.alice);
    // Held open throughout: the client is lazy, and this keeps its one socket (a close would end it).
    const watching = ws.subscribe(ORDER_LIVE, { id: order.id });
    await watching.untilCount(1);
    expect((await wsQuery(ws, ORDER, { id: order.id })).data).toEqual({ order: { id: order.id, status: 'placed' } });

    await pg.stop();

    // HTTP: a query and a mutation.
    const query = await post(ORDER, { id: order.id }, tokens.alice);
    expect({ status: query.status, codes: codes(query) }).toEqual({ status: 503, codes: ['UNAVAILABLE'] });
    expect(Number(query.retryAfter)).toBeGreaterThan(0);
    expect(query.errors![0]!.message).toMatch(/unavailable.*retry/i);
    const place = await post(
      Q.place,
      { input: { restaurantId: ids.napoli, deliveryAddress: '1 Outage Lane', items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
      tokens.alice,
    );
    expect({ status: place.status, codes: codes(place) }).toEqual({ status: 503, codes: ['UNAVAILABLE'] });
    expect(place.retryAfter).toBe(query.retryAfter);

    // WebSocket: an error on that operation; the socket stays open.
    const overWs = await wsQuery(ws, ORDER, { id: order.id });
    expect(codes(overWs)).toEqual(['UNAVAILABLE']);
    // The client is told when to retry in the error itself; yoga's HTTP status and headers stay out of it.
    expect(overWs.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfter: 1 });
    expect(overWs.errors?.[0]?.extensions).not.toHaveProperty('http');
    const live = ws.subscribe(ORDER_LIVE, { id: order.id });
    await live.until((f) => f.results.length > 0 || f.completed, 10_000, 'the live subscription to answer');
    expect(codes(live.results[0] ?? (live.failure as never))).toEqual(['UNAVAILABLE']);

    // SSE: a subscription and a query over an event stream.
    const sse = await sseSubscribe(api.url, tokens.alice, ORDER_LIVE, { id: order.id });
    try {
      await sse.until((f) => f.results.length > 0 || f.completed, 10_000, 'the SSE subscription to answer');
      expect(codes(sse.results[0] ?? sse.body)).toEqual(['UNAVAILABLE']);
    } finally {
      sse.close();
    }
    const sseQuery = await sseSubscribe(api.url, tokens.alice, ORDER, { id: order.id });
    try {
      await sseQuery.until((f) => f.results.length > 0 || f.completed, 10_000, 'the SSE query to answer');
      expect(codes(sseQuery.results[0] ?? sseQuery.body)).toEqual(['UNAVAILABLE']);
    } finally {
      sseQuery.close();
    }

    await pg.start();

    const again = await eventually(async () => {
      const res = await post(ORDER, { id: order.id }, tokens.alice);
      if (res.status !== 200) throw new Error(JSON.stringify(res));
      return res;
    }, 'a query after the restart');
    expect(again.data).toEqual({ order: { id: order.id, status: 'placed' } });
    // The same WebSocket, never closed, serves again.
    expect((await wsQuery(ws, ORDER, { id: order.id })).data).toEqual({ order: { id: order.id, status: 'placed' } });
    const sseAfter = await sseSubscribe(api.url, tokens.alice, ORDER_LIVE, { id: order.id });
    try {
      await sseAfter.untilCount(1);
      expect(sseAfter.results[0]!.data).toEqual({ order: { id: order.id, status: 'placed' } });
    } finally {
      sseAfter.close();
    }
    const closedYet = await Promise.race([ws.closed.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 100))]);
    expect(closedYet).toBe(false);
    expect({ completed: watching.completed, errors: watching.results.filter((r) => r.errors) }).toEqual({ completed: false, errors: [] });
  });
});
