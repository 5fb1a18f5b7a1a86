/**
 * One bad operation on a WebSocket fails alone: a query over the depth,
 * alias, directive or cost limit, or a subscription whose variables nest
 * 5,000 levels deep, gets an error on that operation, and the socket and
 * the live subscription already open on it go on receiving changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { ok, placeNapoliOrder, Q, type Tokens } from '../support/orders.js';
import { rawWsClient, type CloseInfo, type RawWsClient } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const ORDER = 'subscription($id: ID!) { order(id: $id) { id status version } }';

let api: TestApi;
let tokens: Tokens;
useTestApi({ seed: true }, (env) => ({ api, tokens } = env));

const clients: RawWsClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await waitFor(() => api.api.realtime.stats().subscriptions === 0, 'every subscription ended');
});

async function client(): Promise<RawWsClient> {
  const c = await rawWsClient(api.url, tokens.alice);
  clients.push(c);
  return c;
}

interface Next {
  type: string;
  payload?: { data?: { order?: { version: number } } };
}
const versionsOf = (c: RawWsClient, id: string) => (c.of(id) as Next[]).flatMap((m) => (m.payload?.data?.order ? [m.payload.data.order.version] : []));

/** The one `error` message of operation `id`: its errors. */
async function errorsOf(c: RawWsClient, id: string): Promise<Array<{ message: string; extensions?: { code?: string; http?: unknown } }>> {
  let closedWith: CloseInfo | undefined;
  void c.closed.then((info) => (closedWith = info));
  await waitFor(() => closedWith !== undefined || c.of(id).length > 0, `an answer to ${id}`);
  expect(closedWith, `the socket closed instead: ${JSON.stringify(closedWith)}`).toBeUndefined();
  const [answer] = c.of(id);
  expect(answer?.type).toBe('error');
  return answer!.payload as Array<{ message: string; extensions?: { code?: string; http?: unknown } }>;
}

/** A live subscription on `c` to a fresh order of Alice's, at its first state. */
async function watchNewOrder(c: RawWsClient): Promise<string> {
  const order = await placeNapoliOrder(api, tokens.alice);
  c.subscribe('live', ORDER, { id: order.id });
  await waitFor(() => versionsOf(c, 'live').includes(order.version), 'the initial state');
  return order.id;
}

/** The live subscription still works: a change reaches it. */
async function stillLive(c: RawWsClient, orderId: string): Promise<void> {
  const validated = ok(await api.gql<{ recordOrderValidation: { version: number } }>(Q.validate, { orderId, valid: true }, tokens.service));
  await waitFor(() => versionsOf(c, 'live').includes(validated.recordOrderValidation.version), 'the change on the live subscription');
  expect(c.socket.readyState).toBe(c.socket.OPEN);
}

/** A query whose selection is `depth` fields deep (order → payments → order → …), ending in `leaves`. */
function queryOfDepth(depth: number, leaves = 'id'): string {
  let inner = leaves;
  for (let level = depth - 1; level >= 2; level--) inner = `${level % 2 === 0 ? 'payments' : 'order'} { ${inner} }`;
  return `{ order(id: "00000000-0000-4000-8000-00ff00000000") { ${inner} } }`;
}

describe('an operation over a limit, on a socket with a live subscription', () => {
  const overLimit = () => [
    { name: 'depth', query: queryOfDepth(api.config.MAX_QUERY_DEPTH + 1), message: /depth limit/i },
    { name: 'aliases', query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: restaurants { id }`).join(' ')} }`, message: /aliases limit/i },
    { name: 'directives', query: `{ restaurants { ${'id @include(if: true) '.repeat(21)} } }`, message: /directives limit/i },
    // Within the depth limit, but scalars deep down cost the most.
    { name: 'cost', query: queryOfDepth(api.config.MAX_QUERY_DEPTH, 'id '.repeat(200)), message: /cost limit/i },
  ];

  it('gets an error on that operation alone; the socket and the subscription go on', async () => {
    const c = await client();
    const orderId = await watchNewOrder(c);
    for (const { name, query, message } of overLimit()) {
      // Over HTTP, the same query is refused the same way.
      const overHttp = await api.gql(query, {}, tokens.alice);
      expect(overHttp.errors?.[0]?.message, name).toMatch(message);
      c.subscribe(name, query);
      const errors = await errorsOf(c, name);
      expect(errors[0]?.message, name).toMatch(message);
      // Yoga's HTTP-only status and headers stay out of a WebSocket answer.
      expect(errors[0]?.extensions?.http, name).toBeUndefined();
    }
    await stillLive(c, orderId);
  });
});

describe('variables nested 5,000 levels deep', () => {
  it('fail that subscription alone with BAD_USER_INPUT; the socket and the other subscription go on', async () => {
    const c = await client();
    const orderId = await watchNewOrder(c);
    // No client library can stringify this; JSON.parse on the server reads it.
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    c.send(`{"id":"deep","type":"subscribe","payload":{"query":${JSON.stringify(ORDER)},"variables":{"id":${JSON.stringify(orderId)},"deep":${deep}}}}`);
    const errors = await errorsOf(c, 'deep');
    expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(errors[0]?.message).toMatch(/nested too deeply/);
    expect(errors[0]?.extensions?.http).toBeUndefined();
    await stillLive(c, orderId);
  });
});
