import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/db.js';
import type { TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';
import { testEvent, writeEvents } from '../support/eventLog.js';
import { sseSubscribe, wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const EVENTS = `subscription Events($after: String, $filter: EventFilter) {
  events(after: $after, filter: $filter) { cursor id type aggregateType aggregateId payload createdAt }
}`;

interface EventData {
  events: { cursor: string; id: string; type: string; aggregateType: string; aggregateId: string; payload: { n: number } };
}

let db: TestDatabase;
let api: TestApi;
let admin: string;
const sessions: WsSession[] = [];

function session(token: string | null): WsSession {
  const s = wsSession(api.url, token);
  sessions.push(s);
  return s;
}

/** Subscriptions join the hub asynchronously: wait until `n` listeners are registered. */
const listeners = (n: number) => waitFor(() => api.api.realtime.hub.stats().listeners >= n, 'hub listeners');

useTestApi({}, (env) => ({ db, api } = env));
beforeAll(async () => {
  admin = await api.token('admin', 'admin-1');
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

describe('events subscription over graphql-ws', () => {
  it('streams events committed after subscribing, in commit order', async () => {
    const ws = session(admin);
    const feed = ws.subscribe<EventData>(EVENTS, { filter: { aggregateId: 'live-1' } });
    await listeners(1);
    await writeEvents(db.sql, [testEvent(1, 'live-1'), testEvent(2, 'live-1')]);
    await writeEvents(db.sql, [testEvent(3, 'live-1')]);
    await feed.untilCount(3);
    expect(feed.data.map((d) => d.events.payload.n)).toEqual([1, 2, 3]);
    expect(feed.results.every((r) => !r.errors)).toBe(true);
    feed.unsubscribe();
    await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'listener removed after unsubscribe');
  });

  it('resumes from a cursor: what was written while disconnected arrives, then live, exactly once', async () => {
    const first = session(admin);
    const before = first.subscribe<EventData>(EVENTS, { filter: { aggregateId: 'resume-1' } });
    await listeners(1);
    await writeEvents(db.sql, [testEvent(1, 'resume-1'), testEvent(2, 'resume-1')]);
    await before.untilCount(2);
    const lastCursor = before.data[1]!.events.cursor;
    await first.dispose();

    // Written while no client is connected.
    await writeEvents(db.sql, [testEvent(3, 'resume-1')]);
    await writeEvents(db.sql, [testEvent(4, 'resume-1'), testEvent(5, 'resume-1')]);

    const second = session(admin);
    const after = second.subscribe<EventData>(EVENTS, { after: lastCursor, filter: { aggregateId: 'resume-1' } });
    await after.untilCount(3);
    await listeners(1);
    await writeEvents(db.sql, [testEvent(6, 'resume-1')]);
    await after.untilCount(4);
    expect(after.data.map((d) => d.events.payload.n)).toEqual([3, 4, 5, 6]);
    after.unsubscribe();
  });

  it('filters by type and by aggregate', async () => {
    const ws = session(admin);
    const byType = ws.subscribe<EventData>(EVENTS, { filter: { types: ['f.kept'] } });
    const byAggregate = ws.subscribe<EventData>(EVENTS, { filter: { aggregateType: 'test', aggregateId: 'f-2' } });
    await listeners(2);
    await writeEvents(db.sql, [testEvent(1, 'f-1', 'f.kept'), testEvent(2, 'f-2', 'f.dropped'), testEvent(3, 'f-2', 'f.kept')]);
    await byType.untilCount(2);
    await byAggregate.untilCount(2);
    expect(byType.data.map((d) => d.events.payload.n)).toEqual([1, 3]);
    expect(byAggregate.data.map((d) => d.events.payload.n)).toEqual([2, 3]);
    byType.unsubscribe();
    byAggregate.unsubscribe();
  });

  it('rejects a malformed cursor with BAD_USER_INPUT', async () => {
    const feed = session(admin).subscribe<EventData>(EVENTS, { after: 'not-a-cursor' });
    await feed.untilCompleted();
    expect(feed.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is for service and admin only: a customer gets FORBIDDEN and nothing else', async () => {
    const feed = session(await api.token('customer', 'c-1')).subscribe<EventData>(EVENTS);
    await feed.untilCompleted();
    expect(feed.results).toHaveLength(1);
    expect(feed.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(feed.results[0]?.data ?? null).toBeNull();
  });

  it('lets a service token subscribe', async () => {
    const feed = session(await api.token('service', 'dispatcher')).subscribe<EventData>(EVENTS, { filter: { aggregateId: 'svc-1' } });
    await listeners(1);
    await writeEvents(db.sql, [testEvent(1, 'svc-1')]);
    await feed.untilCount(1);
    expect(feed.data[0]?.events.payload.n).toBe(1);
    feed.unsubscribe();
  });
});

describe('events subscription over SSE', () => {
  it('streams events to an admin', async () => {
    const feed = await sseSubscribe<EventData>(api.url, admin, EVENTS, { filter: { aggregateId: 'sse-1' } });
    expect(feed.status).toBe(200);
    await listeners(1);
    await writeEvents(db.sql, [testEvent(1, 'sse-1'), testEvent(2, 'sse-1')]);
    await feed.untilCount(2);
    expect(feed.data.map((d) => d.events.payload.n)).toEqual([1, 2]);
    feed.close();
    await waitFor(() => api.api.realtime.hub.stats().listeners === 0, 'listener removed after the SSE client left');
  });

  it('answers 401 without a token', async () => {
    const feed = await sseSubscribe<EventData>(api.url, null, EVENTS);
    expect(feed.status).toBe(401);
    await feed.untilCompleted();
    const errors = feed.body?.errors ?? feed.results[0]?.errors;
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(feed.data).toEqual([]);
  });

  it('gives a customer FORBIDDEN', async () => {
    const feed = await sseSubscribe<EventData>(api.url, await api.token('customer', 'c-1'), EVENTS);
    await feed.untilCompleted();
    const errors = feed.results[0]?.errors ?? feed.body?.errors;
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(feed.data).toEqual([]);
  });
});

describe('gap-freedom', () => {
  it('delivers a slow transaction that commits an earlier xid late, exactly once, in (xid, seq) order', async () => {
    const ws = session(admin);
    const feed = ws.subscribe<EventData>(EVENTS, { filter: { aggregateType: 'test', aggregateId: 'gap' } });
    await listeners(1);

    // The slow transaction takes its xid first and stays open.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slowStarted!: () => void;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const slow = db.sql.begin(async (tx) => {
      await tx`insert into threefactor.events (type, aggregate_type, aggregate_id, payload) values ('gap.slow', 'test', 'gap', '{"n": 0}')`;
      slowStarted();
      await gate;
    });
    await started;
    try {
      // Concurrent writers commit later xids meanwhile.
      await Promise.all([1, 2, 3, 4].map((n) => writeEvents(db.sql, [testEvent(n, 'gap'), testEvent(n * 10, 'gap')])));
      // A seq-ordered reader would have passed the slow row by now; the hub holds them back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(feed.results).toHaveLength(0);
    } finally {
      release();
      await slow;
    }
    await feed.untilCount(9);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(feed.results).toHaveLength(9);
    expect(feed.data[0]!.events.payload.n).toBe(0);

    const inLogOrder = await db.sql<{ id: string }[]>`
      select id from threefactor.events where aggregate_id = 'gap' order by xid, seq`;
    expect(feed.data.map((d) => d.events.id)).toEqual(inLogOrder.map((r) => r.id));
    expect(new Set(feed.data.map((d) => d.events.cursor)).size).toBe(9);
    feed.unsubscribe();
  });
});
