import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { foodDelivery } from '../../src/apps/food-delivery/index.js';
import { createLogger } from '../../src/engine/log.js';
import { createHub, type Hub } from '../../src/engine/realtime/hub.js';
import { hubReads, listenConnects } from '../../src/engine/realtime/metrics.js';
import type { LogEvent } from '../../src/engine/realtime/sql/eventRow.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { writeEvents } from '../support/eventLog.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let hub: Hub;
const log = createLogger('silent');

async function counter(c: typeof hubReads | typeof listenConnects, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await c.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k as never] === l)).reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  db = await freshDatabase();
  // No backstop: every delivery below must come from a notification or the catch-up after (re)LISTEN.
  // The app's own topics are the food-delivery app's (App.topicsOf): restaurant and driver from an order's payload.
  hub = createHub({ sql: db.sql, log, backstopMs: 3_600_000, appTopics: foodDelivery.topicsOf });
  await hub.start();
});
afterAll(async () => {
  await hub.close();
  await db.drop();
});

describe('realtime hub', () => {
  it("fans an order event out to its order and global topics and the app's restaurant and driver topics; topics are reference counted", async () => {
    const got: Record<string, LogEvent[]> = { order: [], restaurant: [], driver: [], all: [], other: [] };
    const leave = [
      hub.subscribe('order:o1', (e) => got.order!.push(e)),
      hub.subscribe('restaurant:r1', (e) => got.restaurant!.push(e)),
      hub.subscribe('driver:d1', (e) => got.driver!.push(e)),
      hub.subscribe('*', (e) => got.all!.push(e)),
      hub.subscribe('order:o2', (e) => got.other!.push(e)),
      hub.subscribe('*', () => {}),
    ];
    expect(hub.stats()).toEqual({ topics: 5, listeners: 6 });
    await writeEvents(db.sql, [
      { type: 'order.placed', aggregateType: 'order', aggregateId: 'o1', payload: { orderId: 'o1', restaurantId: 'r1', driverId: null, version: 1 } },
      { type: 'order.driver_assigned', aggregateType: 'order', aggregateId: 'o1', payload: { orderId: 'o1', restaurantId: 'r1', driverId: 'd1', version: 2 } },
    ]);
    await waitFor(() => got.all!.length === 2, 'both events');
    expect(got.order!.map((e) => e.type)).toEqual(['order.placed', 'order.driver_assigned']);
    expect(got.restaurant!.map((e) => e.type)).toEqual(['order.placed', 'order.driver_assigned']);
    expect(got.driver!.map((e) => e.type)).toEqual(['order.driver_assigned']);
    expect(got.other).toEqual([]);
    expect(hub.position).toEqual(got.all![1]!.cursor);
    for (const l of leave) l();
    expect(hub.stats()).toEqual({ topics: 0, listeners: 0 });
  });

  it('coalesces wake-ups: any number during a read schedule exactly one more read', async () => {
    const before = await counter(hubReads, { outcome: 'ok' });
    for (let i = 0; i < 100; i++) hub.wake();
    await waitFor(async () => (await counter(hubReads, { outcome: 'ok' })) - before >= 2, 'two reads');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await counter(hubReads, { outcome: 'ok' })) - before).toBe(2);
  });

  it('is not held back by a transaction running in another database of the cluster', async () => {
    const got: LogEvent[] = [];
    const leave = hub.subscribe('test:foreign', (e) => got.push(e));
    const elsewhere = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let began!: () => void;
    const begun = new Promise<void>((resolve) => (began = resolve));
    const foreign = elsewhere.begin(async (tx) => {
      await tx`select pg_current_xact_id()`;
      began();
      await gate;
    });
    try {
      await begun;
      await writeEvents(db.sql, [{ type: 'test.happened', aggregateType: 'test', aggregateId: 'foreign' }]);
      await waitFor(() => got.length === 1, 'delivery while a foreign transaction is open', 5_000);
    } finally {
      release();
      await foreign;
      await elsewhere.end();
      leave();
    }
  });

  it('catches up from the table after its LISTEN connection is killed', async () => {
    const got: LogEvent[] = [];
    const leave = hub.subscribe('test:after-kill', (e) => got.push(e));
    const connectsBefore = await counter(listenConnects);
    // Kill the listener and write in the same statement: the notification goes nowhere.
    await db.sql`
      with killed as (
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query ilike 'listen %'
      )
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select 'test.happened', 'test', 'after-kill', '{}'::jsonb from killed`;
    await waitFor(() => got.length === 1, 'the event written while the listener was down');
    expect(await counter(listenConnects)).toBeGreaterThan(connectsBefore);
    leave();
  });
});
