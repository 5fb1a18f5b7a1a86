import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/db.js';
import { startTestApi, TEST_SECRET, type TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { testEvent, writeEvents } from '../support/eventLog.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { TOKEN_EXPIRED_REASON } from '../../src/engine/server/ws.js';
import { sseSubscribe, wsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const EVENTS = 'subscription { events { cursor type payload } }';

/** A JWT's `exp` in epoch ms (the tests mint their own short-lived tokens). */
const decodeExp = (token: string): number => decodeJwt(token).exp! * 1000;

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

  it('closes a connection with 4401 once its token expires, and only that one', async () => {
    const shortLived = await mintToken(TEST_SECRET, { role: 'admin', sub: 'short' }, '3s');
    const expiresAt = decodeExp(shortLived);
    const expiring = wsSession(api.url, shortLived);
    const lasting = wsSession(api.url, await api.token('admin', 'long'));
    try {
      const feed = expiring.subscribe(EVENTS);
      const other = lasting.subscribe(EVENTS);
      const closed = await expiring.closed;
      expect(closed).toEqual({ code: 4401, reason: TOKEN_EXPIRED_REASON });
      // Not before the token's exp (whole seconds), and within the once-a-second sweep after it (with slack for a loaded machine).
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
      expect(Date.now() - expiresAt).toBeLessThan(5_000);
      await feed.untilCompleted();
      // The other connection, with a valid token, is still served.
      await writeEvents(db.sql, [testEvent(1, 'expiry-after')]);
      await other.untilCount(1);
    } finally {
      await expiring.dispose();
      await lasting.dispose();
    }
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

describe('SSE authentication', () => {
  it('ends a stream with UNAUTHENTICATED once its token expires', async () => {
    const shortLived = await mintToken(TEST_SECRET, { role: 'admin', sub: 'short' }, '3s');
    const expiresAt = decodeExp(shortLived);
    const sse = await sseSubscribe(api.url, shortLived, EVENTS);
    try {
      expect(sse.status).toBe(200);
      await writeEvents(db.sql, [testEvent(1, 'sse-expiry')]);
      await sse.untilCompleted();
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
      expect(Date.now() - expiresAt).toBeLessThan(5_000);
      // Whatever arrived before the expiry, the last word is the expiry.
      expect(sse.results.at(-1)?.errors?.[0]).toMatchObject({
        message: 'Authentication expired: subscribe again with a fresh token',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      // The stream's execution is gone: its feed left the hub (every other test here disposes its sessions).
      await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'the stream left the hub');
    } finally {
      sse.close();
    }
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
