import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { dedicatedPostgres, type DedicatedPostgres } from '../support/dedicatedPostgres.js';
import { testEvent, writeEvents } from '../support/eventLog.js';
import { sseSubscribe, wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const EVENTS = 'subscription { events(filter: { aggregateId: "restart" }) { cursor payload } }';

let pg: DedicatedPostgres;
let database: Database;
let api: TestApi;
let ws: WsSession;

beforeAll(async () => {
  pg = await dedicatedPostgres();
  database = connect(pg.url, { max: 4 });
  api = await startTestApi(database);
});
afterAll(async () => {
  await ws?.dispose();
  await api?.close();
  await database?.close(1);
  await pg?.destroy();
});

describe('PostgreSQL restarts under running subscriptions', () => {
  it('keeps WebSocket and SSE subscribers open, without errors, and they converge after the restart', async () => {
    const admin = await api.token('admin', 'a');
    ws = wsSession(api.url, admin);
    const overWs = ws.subscribe<{ events: { payload: { n: number } } }>(EVENTS);
    const overSse = await sseSubscribe<{ events: { payload: { n: number } } }>(api.url, admin, EVENTS);
    await waitFor(() => api.api.realtime.hub.stats().listeners === 2, 'both subscribers registered');

    await writeEvents(database.sql, [testEvent(1, 'restart')]);
    await overWs.untilCount(1);
    await overSse.untilCount(1);

    await pg.stop();
    // The hub's reads fail and its LISTEN connection is gone for a while.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await pg.start();

    await writeEvents(database.sql, [testEvent(2, 'restart')]);
    await writeEvents(database.sql, [testEvent(3, 'restart')]);
    await overWs.untilCount(3, 20_000);
    await overSse.untilCount(3, 20_000);

    for (const feed of [overWs, overSse]) {
      expect(feed.data.map((d) => d.events.payload.n)).toEqual([1, 2, 3]);
      expect(feed.results.some((r) => r.errors)).toBe(false);
      expect(feed.completed).toBe(false);
    }
    overSse.close();
  });
});
