import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { testEvent, writeEvents } from '../support/eventLog.js';
import { sseSubscribe, wsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const EVENTS = 'subscription { events { cursor type payload } }';

let db: TestDatabase;
let api: TestApi;

useTestApi({}, (env) => ({ db, api } = env));

describe('graphql-ws authentication', () => {
  it('closes a connection without a token with 4401 and says why', async () => {
    const ws = wsSession(api.url, null);
    const feed = ws.subscribe(EVENTS);
    const closed = await ws.closed;
    expect(closed).toEqual({ code: 4401, reason: 'Authentication required: send connectionParams.authorization = "Bearer <token>"' });
    await feed.untilCompleted();
    expect(feed.results).toEqual([]);
    await ws.dispose();
  });

  it('closes a connection with a forged token with 4401', async () => {
    const ws = wsSession(api.url, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJl');
    ws.subscribe(EVENTS);
    expect(await ws.closed).toEqual({ code: 4401, reason: 'Authentication failed: token is invalid' });
    await ws.dispose();
  });

  it('accepts the bare token as well as "Bearer <token>"', async () => {
    const token = await api.token('admin', 'a');
    const socket = new WebSocket(`${api.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: Array<{ type: string }> = [];
    socket.on('message', (m) => messages.push(JSON.parse(String(m)) as { type: string }));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: token } }));
    await waitFor(() => messages.length > 0, 'connection_ack');
    expect(messages[0]?.type).toBe('connection_ack');
    socket.close();
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const socket = new WebSocket(`${api.url.replace('http', 'ws')}/elsewhere`, 'graphql-transport-ws');
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

describe('metrics', () => {
  it('counts subscribers by kind on /metrics', async () => {
    const ws = wsSession(api.url, await api.token('admin', 'a'));
    const feed = ws.subscribe(EVENTS);
    await waitFor(() => api.api.realtime.hub.stats().listeners === 1, 'subscriber registered');
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/threefactor_realtime_subscribers\{kind="events"\} [1-9]/);
    expect(text).toMatch(/threefactor_realtime_hub_reads_total\{outcome="ok"\} [1-9]/);
    feed.unsubscribe();
    await ws.dispose();
  });
});

describe('drain', () => {
  it('closes WebSockets with 1001 and completes SSE streams', async () => {
    const own = await startTestApi(db);
    const admin = await own.token('admin', 'a');
    const ws = wsSession(own.url, admin);
    const wsFeed = ws.subscribe(EVENTS);
    const sse = await sseSubscribe(own.url, admin, EVENTS);
    await waitFor(() => own.api.realtime.hub.stats().listeners === 2, 'both subscribers registered');
    await writeEvents(db.sql, [testEvent(1, 'drain')]);
    await wsFeed.untilCount(1);
    await sse.untilCount(1);

    const drained = own.api.drain(5_000);
    expect((await ws.closed).code).toBe(1001);
    await sse.untilCompleted();
    expect(sse.failure).toBeUndefined();
    await drained;
    expect(own.api.realtime.hub.stats().listeners).toBe(0);
    await ws.dispose();
  });
});
