/**
 * The dispatch process's operator side, wired as the dispatch command wires
 * it: metrics hooks on a real dispatcher, /metrics on METRICS_PORT, and
 * scheduled retention; plus the validation of its environment variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/engine/config.js';
import { freePort } from '../../src/engine/db/embedded.js';
import { startDispatchOperations } from '../../src/engine/dispatcher/operations.js';
import { testConfig } from '../support/api.js';
import { recordedTrigger, recorder } from '../support/admin.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/receiver.js';
import { startDispatcher } from '../../src/engine/dispatcher/dispatcher.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('startDispatchOperations', () => {
  it('serves /metrics on METRICS_PORT with the dispatcher’s outcomes, runs retention, and stops cleanly', async () => {
    const port = await freePort();
    const config = testConfig({ METRICS_PORT: String(port), HOST: '127.0.0.1', RETENTION_INTERVAL_MS: '1000', RETENTION_BATCH_PAUSE_MS: '0' });
    const rec = recorder();
    const ops = await startDispatchOperations({ database: db, log: testLog(), config });
    expect(ops.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    const dispatcher = await startDispatcher({
      database: db,
      log: testLog(),
      triggers: [recordedTrigger('ops', ['ops.*'])],
      inProcessHandlers: { record: rec.handler },
      webhookSecret: TEST_WEBHOOK_SECRET,
      pollMs: 100,
      hooks: ops.hooks,
    });
    try {
      const ids = await emitEvents(db, [1, 2].map((n) => ({ type: 'ops.x', aggregateType: 'thing', aggregateId: `o${n}`, payload: { n } })));
      await waitFor('delivered', async () => (await db.sql`select 1 from threefactor.deliveries where trigger_name = 'ops' and status = 'delivered'`).length === 2);
      const text = await (await fetch(ops.metricsUrl!)).text();
      expect(text).toContain('threefactor_deliveries_total{trigger="ops",outcome="delivered"} 2');
      expect(text).toContain('threefactor_delivery_queue_depth{trigger="ops"} 0');

      // One of them was delivered long ago: the scheduled pass deletes it, and only it.
      await db.sql`update threefactor.deliveries set created_at = now() - interval '8 days', completed_at = now() - interval '8 days' where event_id = ${ids[0]!}`;
      await waitFor('retention', async () => (await db.sql`select 1 from threefactor.deliveries where event_id = ${ids[0]!}`).length === 0, 10_000);
      expect(await db.sql`select 1 from threefactor.deliveries where event_id = ${ids[1]!}`).toHaveLength(1);
      expect(await db.sql`select 1 from threefactor.events where id = any(${ids}::uuid[])`).toHaveLength(2);
    } finally {
      await dispatcher.stop({ deadlineMs: 2_000 });
      await ops.stop();
    }
    await expect(fetch(ops.metricsUrl!)).rejects.toThrow();
  });

  it('starts no listener when METRICS_PORT is 0 (the default)', async () => {
    const config = testConfig({ RETENTION_DELIVERED_DAYS: '0' });
    expect(config.METRICS_PORT).toBe(0);
    const ops = await startDispatchOperations({ database: db, log: testLog(), config });
    expect(ops.metricsUrl).toBeNull();
    await ops.stop();
  });
});

describe('retention and metrics configuration', () => {
  it('has documented defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      RETENTION_DELIVERED_DAYS: 7,
      RETENTION_INTERVAL_MS: 600_000,
      RETENTION_BATCH_SIZE: 1_000,
      RETENTION_BATCH_PAUSE_MS: 100,
      METRICS_PORT: 0,
    });
    // Dead letters and events are kept unless asked.
    expect(c.RETENTION_DEAD_DAYS).toBeUndefined();
    expect(c.RETENTION_EVENTS_DAYS).toBeUndefined();
    expect(parseConfig({ RETENTION_DELIVERED_DAYS: '0.5', RETENTION_DEAD_DAYS: '30', RETENTION_EVENTS_DAYS: '365' })).toMatchObject({
      RETENTION_DELIVERED_DAYS: 0.5,
      RETENTION_DEAD_DAYS: 30,
      RETENTION_EVENTS_DAYS: 365,
    });
  });

  it.each([
    ['RETENTION_DELIVERED_DAYS', '-1'],
    ['RETENTION_DELIVERED_DAYS', 'seven'],
    ['RETENTION_DEAD_DAYS', '0'],
    ['RETENTION_EVENTS_DAYS', '-3'],
    ['RETENTION_BATCH_SIZE', '0'],
    ['RETENTION_BATCH_SIZE', '50000'],
    ['RETENTION_INTERVAL_MS', '10'],
    ['METRICS_PORT', '70000'],
  ])('refuses %s=%s with one line naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`^config: ${name} `));
  });
});
