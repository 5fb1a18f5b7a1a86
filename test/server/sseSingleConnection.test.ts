/**
 * graphql-sse's own client against the API: its default "distinct
 * connections" mode streams; its "single connection" mode, which needs the
 * reservation kept in one process (sticky routing), is not supported, and
 * each of its requests (the PUT reservation, the GET stream and the POST
 * operation carrying the reservation token) is answered with a 400 and a
 * GraphQL error naming distinct connections mode, not a bare 405.
 */
import { createClient, type Client } from 'graphql-sse';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { placeNapoliOrder, type Tokens } from '../support/orders.js';
import { Feed } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const ORDER = 'subscription($id: ID!) { order(id: $id) { id status version } }';
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const UNSUPPORTED = /single connection mode is not supported.*distinct connections mode/i;

let api: TestApi;
let tokens: Tokens;
useTestApi({ seed: true }, (env) => ({ api, tokens } = env));

const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await waitFor(() => api.api.realtime.stats().subscriptions === 0, 'every stream ended');
});

function sseClient(singleConnection: boolean, token: string): Client {
  const client = createClient({
    url: `${api.url}/graphql`,
    singleConnection,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    onNonLazyError: () => {},
  });
  clients.push(client);
  return client;
}

function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>): Feed<T> {
  const feed = new Feed<T>();
  client.subscribe<T>({ query, variables }, { next: (r) => feed.push(r as never), error: (err) => feed.complete(err), complete: () => feed.complete() });
  return feed;
}

describe("graphql-sse's client", () => {
  it('streams in distinct connections mode (the default)', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const feed = subscribe<{ order: { id: string; version: number } }>(sseClient(false, tokens.alice), ORDER, { id: order.id });
    await feed.untilCount(1);
    expect(feed.data[0]?.order).toMatchObject({ id: order.id, version: order.version });
    expect(feed.failure).toBeUndefined();
  });

  it('is refused in single connection mode with a 400, not a bare 405', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const feed = subscribe(sseClient(true, tokens.alice), ORDER, { id: order.id });
    await feed.untilCompleted();
    expect(feed.results).toEqual([]);
    const failure = feed.failure as { name?: string; response?: Response };
    expect(failure.name).toBe('NetworkError');
    // The client aborts the request on failure, body and all: the body is checked request by request below.
    expect(failure.response?.status).toBe(400);
  });
});

describe('each request of single connection mode', () => {
  const requests = (orderId: string): Array<[string, string, RequestInit]> => [
    ['the PUT reservation', '/graphql', { method: 'PUT' }],
    ['the GET stream with the token header', '/graphql', { method: 'GET', headers: { [TOKEN_HEADER]: 'reserved', accept: 'text/event-stream' } }],
    ['the GET stream with the token parameter', '/graphql?token=reserved', { method: 'GET', headers: { accept: 'text/event-stream' } }],
    [
      'the POST operation with the token header',
      '/graphql',
      {
        method: 'POST',
        headers: { [TOKEN_HEADER]: 'reserved', 'content-type': 'application/json' },
        body: JSON.stringify({ query: ORDER, variables: { id: orderId }, extensions: { operationId: 'op1' } }),
      },
    ],
    ['the DELETE of an operation', '/graphql?operationId=op1', { method: 'DELETE', headers: { [TOKEN_HEADER]: 'reserved' } }],
  ];

  it('is answered 400 with a JSON GraphQL error naming distinct connections mode', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    for (const [what, path, init] of requests(order.id)) {
      const res = await fetch(`${api.url}${path}`, { ...init, headers: { authorization: `Bearer ${tokens.alice}`, ...init.headers } });
      expect(res.status, what).toBe(400);
      expect(res.headers.get('content-type'), what).toMatch(/^application\/json/);
      const body = (await res.json()) as { errors: Array<{ message: string; extensions?: { code?: string } }> };
      expect(body.errors[0]?.message, what).toMatch(UNSUPPORTED);
      expect(body.errors[0]?.extensions?.code, what).toBe('BAD_REQUEST');
    }
  });

  it('leaves an ordinary GET query alone', async () => {
    const query = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ restaurants { id } }')}`, {
      headers: { authorization: `Bearer ${tokens.alice}`, accept: 'application/json' },
    });
    expect(query.status).toBe(200);
    expect(((await query.json()) as { errors?: unknown }).errors).toBeUndefined();
  });
});
