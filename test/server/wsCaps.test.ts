/**
 * Caps on what one viewer may hold open in a process: operations per
 * WebSocket connection (MAX_OPERATIONS_PER_CONNECTION), WebSocket
 * connections per viewer (MAX_CONNECTIONS_PER_VIEWER) and SSE streams per
 * viewer (MAX_SSE_STREAMS_PER_VIEWER). Over a cap, that one operation,
 * connection or stream is refused with a clear answer; everything else goes
 * on, and a slot freed is usable again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/engine/config.js';
import type { TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { ok, placeNapoliOrder, Q, type OrderView, type Tokens } from '../support/orders.js';
import { rawWsClient, sseSubscribe, wsSession, type RawWsClient, type SseSubscription, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const ORDER = 'subscription($id: ID!, $afterVersion: Int) { order(id: $id, afterVersion: $afterVersion) { id status version } }';
const OPERATIONS = 3;
const CONNECTIONS = 2;
const STREAMS = 2;

let api: TestApi;
let tokens: Tokens;
useTestApi(
  {
    seed: true,
    overrides: {
      MAX_OPERATIONS_PER_CONNECTION: String(OPERATIONS),
      MAX_CONNECTIONS_PER_VIEWER: String(CONNECTIONS),
      MAX_SSE_STREAMS_PER_VIEWER: String(STREAMS),
    },
  },
  (env) => ({ api, tokens } = env),
);

const raws: RawWsClient[] = [];
const sessions: WsSession[] = [];
const streams: Array<SseSubscription<unknown>> = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.socket.terminate();
  await Promise.all(sessions.splice(0).map((s) => s.dispose()));
  for (const stream of streams.splice(0)) stream.close();
  await waitFor(() => api.api.realtime.stats().subscriptions === 0 && api.api.ws.connections === 0, 'every subscription and socket gone');
});

type Live = { order: { id: string; version: number } };
interface Message {
  id?: string;
  type: string;
  payload?: { data?: Live } | Array<{ message: string; extensions?: { code?: string } }>;
}
const nextsOf = (c: RawWsClient<Message>, id: string) => c.of(id).filter((m) => m.type === 'next');

async function raw(token: string): Promise<RawWsClient<Message>> {
  const c = await rawWsClient<Message>(api.url, token);
  raws.push(c);
  return c;
}

function session(token: string): WsSession {
  const s = wsSession(api.url, token);
  sessions.push(s);
  return s;
}

async function stream(token: string, orderId: string): Promise<SseSubscription<Live>> {
  const s = await sseSubscribe<Live>(api.url, token, ORDER, { id: orderId });
  streams.push(s as SseSubscription<unknown>);
  return s;
}

describe('operations per WebSocket connection', () => {
  it('refuses the operation over MAX_OPERATIONS_PER_CONNECTION with TOO_MANY_OPERATIONS; the socket and its subscriptions go on; a completed one frees its slot', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const c = await raw(tokens.alice);
    // Different afterVersion each: nothing is shared, as in the audit.
    for (let i = 1; i <= OPERATIONS; i++) c.subscribe(`s${i}`, ORDER, { id: order.id, afterVersion: -i });
    await waitFor(() => [1, 2, 3].every((i) => nextsOf(c, `s${i}`).length === 1), 'every subscription at its first state');

    c.subscribe('over', ORDER, { id: order.id, afterVersion: -99 });
    c.subscribe('query', '{ restaurants { id } }');
    await waitFor(() => c.of('over').length > 0 && c.of('query').length > 0, 'the answers over the cap');
    for (const id of ['over', 'query']) {
      const [answer] = c.of(id);
      expect(answer?.type).toBe('error');
      const errors = answer!.payload as Array<{ message: string; extensions?: { code?: string } }>;
      expect(errors[0]?.extensions?.code).toBe('TOO_MANY_OPERATIONS');
      expect(errors[0]?.message).toBe(`Too many operations on this connection (at most ${OPERATIONS}): complete one first`);
    }

    // The socket is open and its subscriptions still get changes.
    expect(c.socket.readyState).toBe(c.socket.OPEN);
    const validated = ok(await api.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId: order.id, valid: true }, tokens.service)).recordOrderValidation;
    await waitFor(() => [1, 2, 3].every((i) => nextsOf(c, `s${i}`).length === 2), 'the change on every subscription');

    // Completing one frees its slot.
    const before = api.api.realtime.stats().subscriptions;
    c.send(JSON.stringify({ id: 's1', type: 'complete' }));
    await waitFor(() => api.api.realtime.stats().subscriptions === before - 1, 's1 ended');
    c.subscribe('again', ORDER, { id: order.id, afterVersion: -1 });
    await waitFor(() => c.of('again').length > 0, 'an answer');
    expect(c.of('again')[0]).toMatchObject({ type: 'next', payload: { data: { order: { version: validated.version } } } });
  });
});

describe('WebSocket connections per viewer', () => {
  it('closes the connection over MAX_CONNECTIONS_PER_VIEWER with 4429 and says why; other viewers connect; a closed one frees its slot', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const open: WsSession[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const s = session(tokens.alice);
      await s.subscribe<Live>(ORDER, { id: order.id }).untilCount(1);
      open.push(s);
    }

    const over = session(tokens.alice);
    const refused = over.subscribe<Live>(ORDER, { id: order.id });
    const outcome = await Promise.race([over.closed, refused.untilCount(1).then(() => 'accepted and served' as const)]);
    expect(outcome).toEqual({ code: 4429, reason: `Too many connections for this viewer (at most ${CONNECTIONS} per server)` });
    await refused.untilCompleted();
    expect(refused.results).toEqual([]);

    // Another viewer is not affected, nor are Alice's open connections.
    const bob = session(tokens.bob);
    await bob.subscribe(`{ restaurants { id } }`).untilCount(1);
    await bob.dispose();
    const live = open[0]!.subscribe<Live>(ORDER, { id: order.id });
    await live.untilCount(1);

    // A closed connection frees its slot (the server sees the close a moment later).
    await waitFor(() => api.api.ws.connections === CONNECTIONS, "only Alice's two connections open");
    await open[1]!.dispose();
    await waitFor(() => api.api.ws.connections === CONNECTIONS - 1, 'the closed connection gone');
    const again = session(tokens.alice);
    const feed = again.subscribe<Live>(ORDER, { id: order.id });
    await feed.untilCount(1);
    expect(feed.data[0]?.order.id).toBe(order.id);
  });
});

describe('SSE streams per viewer', () => {
  it('answers the stream over MAX_SSE_STREAMS_PER_VIEWER with 429 TOO_MANY_OPERATIONS; other viewers stream; a closed stream frees its slot', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const open: Array<SseSubscription<Live>> = [];
    for (let i = 0; i < STREAMS; i++) {
      const s = await stream(tokens.alice, order.id);
      await s.untilCount(1);
      open.push(s);
    }

    const over = await stream(tokens.alice, order.id);
    await over.untilCompleted();
    expect(over.status).toBe(429);
    const errors = (over.body ?? over.results[0])?.errors;
    expect(errors?.[0]?.extensions?.code).toBe('TOO_MANY_OPERATIONS');
    expect(errors?.[0]?.message).toBe(`Too many subscription streams for this viewer (at most ${STREAMS} per server): close one first`);

    // Another viewer streams; a WebSocket of Alice's is not an SSE stream.
    const napoli = await stream(tokens.napoli, order.id);
    await napoli.untilCount(1);
    await session(tokens.alice).subscribe<Live>(ORDER, { id: order.id }).untilCount(1);

    const before = api.api.realtime.stats().subscriptions;
    open[0]!.close();
    await waitFor(() => api.api.realtime.stats().subscriptions === before - 1, 'the closed stream ended');
    const again = await stream(tokens.alice, order.id);
    await again.untilCount(1);
    expect(again.status).toBe(200);
    expect(again.data[0]?.order.id).toBe(order.id);
  });
});

describe('configuration', () => {
  it('has defaults sized for real clients and refuses a cap below 1', () => {
    const config = parseConfig({});
    expect(config.MAX_OPERATIONS_PER_CONNECTION).toBe(100);
    expect(config.MAX_CONNECTIONS_PER_VIEWER).toBe(20);
    expect(config.MAX_SSE_STREAMS_PER_VIEWER).toBe(100);
    for (const variable of ['MAX_OPERATIONS_PER_CONNECTION', 'MAX_CONNECTIONS_PER_VIEWER', 'MAX_SSE_STREAMS_PER_VIEWER']) {
      expect(() => parseConfig({ [variable]: '0' })).toThrow(new RegExp(`^config: ${variable} `));
    }
  });
});
