/**
 * /metrics after real deliveries: outcome counters and attempt histogram fed
 * by the dispatcher's hook, queue gauges read from the database at scrapes
 * (one read serves the scrapes of a few seconds), the same registry on the dispatch process's own listener, and a
 * scrape that still answers when the database does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { pauseTrigger } from '../../src/engine/events/admin/pause.js';
import { recordOutcome, watchDeliveryQueues } from '../../src/engine/dispatcher/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../src/engine/server/metricsServer.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { recordedTrigger, recorder, startRecordingDispatcher } from '../support/admin.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, testLog } from '../support/events.js';
import { ok } from '../support/orders.js';
import { waitFor } from '../support/receiver.js';

let db: TestDatabase;
let api: TestApi;
let dispatcher: Dispatcher;
let metricsServer: MetricsServer;
const rec = recorder();

/** Every sample of a scrape: "name{a="x",b="y"}" → value (labels sorted). */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return samples;
}

const key = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')}}`;

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parse(await res.text());
}

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  rec.failing.add('m-dead');
  dispatcher = await startRecordingDispatcher(db, rec, [
    recordedTrigger('m-ok', ['m.*']),
    recordedTrigger('m-dead', ['m.*'], { retry: { numRetries: 1, intervalSec: 0.02, maxIntervalSec: 0.05 } }),
    recordedTrigger('m-paused', ['m.*']),
  ]);
  await pauseTrigger(db, 'm-paused');
  await emitEvents(db, [1, 2, 3].map((n) => ({ type: 'm.x', aggregateType: 'thing', aggregateId: `m${n}`, payload: { n } })));
  await waitFor('deliveries settled', async () => {
    const [r] = await db.sql<{ ok: number; dead: number }[]>`
      select count(*) filter (where trigger_name = 'm-ok' and status = 'delivered')::int as ok,
             count(*) filter (where trigger_name = 'm-dead' and status = 'dead')::int as dead
      from threefactor.deliveries`;
    return r!.ok === 3 && r!.dead === 3;
  });
  metricsServer = await startMetricsServer(0, testLog());
});
afterAll(async () => {
  await dispatcher.stop({ deadlineMs: 2_000 });
  await metricsServer.close();
  await api.close();
  await db.drop();
});

describe('/metrics', () => {
  it('counts outcomes and attempts per trigger, and times every attempt', async () => {
    const m = await scrape(api.url);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-ok', outcome: 'delivered' }))).toBe(3);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-dead', outcome: 'retrying' }))).toBe(3);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-dead', outcome: 'dead' }))).toBe(3);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-ok', outcome: 'dead' }))).toBeUndefined();
    expect(m.get(key('threefactor_delivery_attempts_total', { trigger: 'm-ok', result: 'success' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_attempts_total', { trigger: 'm-dead', result: 'failure' }))).toBe(6);
    expect(m.get(key('threefactor_delivery_attempt_seconds_count', { trigger: 'm-ok' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_attempt_seconds_count', { trigger: 'm-dead' }))).toBe(6);
    expect(m.get(key('threefactor_delivery_attempt_seconds_bucket', { trigger: 'm-ok', le: '+Inf' }))).toBe(3);
    // Commit-to-handler latency, from the dispatcher's own report: first attempts of routed deliveries.
    expect(m.get(key('threefactor_delivery_latency_seconds_count', { trigger: 'm-ok' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_latency_seconds_count', { trigger: 'm-dead' }))).toBe(3);
    // Nothing reached the paused trigger's handler.
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-paused', outcome: 'delivered' }))).toBeUndefined();
  });

  it('reads queue depth, in-flight and dead letters from the database, a few seconds old at most', async () => {
    let m = await scrape(api.url);
    expect(m.get(key('threefactor_delivery_queue_depth', { trigger: 'm-paused' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_queue_depth', { trigger: 'm-ok' }))).toBe(0);
    expect(m.get(key('threefactor_delivery_in_flight', { trigger: 'm-ok' }))).toBe(0);
    expect(m.get(key('threefactor_delivery_dead_letters', { trigger: 'm-dead' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_dead_letters', { trigger: 'm-ok' }))).toBe(0);

    // Redeliver the dead letters (still failing): the gauges follow the table, not the counters, within seconds.
    const admin = await api.token('admin', 'ops');
    ok(await api.gql('mutation { redeliverDead(trigger: "m-dead") { count } }', undefined, admin));
    m = await scrape(api.url);
    expect((m.get(key('threefactor_delivery_dead_letters', { trigger: 'm-dead' })) ?? 0) + (m.get(key('threefactor_delivery_queue_depth', { trigger: 'm-dead' })) ?? 0) + (m.get(key('threefactor_delivery_in_flight', { trigger: 'm-dead' })) ?? 0)).toBe(3);
    // The counter moves at once; a gauge read serves a few seconds of scrapes, so wait for both.
    await waitFor('dead again', async () => {
      const now = await scrape(api.url);
      return (
        now.get(key('threefactor_deliveries_total', { trigger: 'm-dead', outcome: 'dead' })) === 6 &&
        now.get(key('threefactor_delivery_dead_letters', { trigger: 'm-dead' })) === 3
      );
    });
  });

  it('serves the same registry on the dispatch process’s own listener', async () => {
    const m = await scrape(metricsServer.url);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-ok', outcome: 'delivered' }))).toBe(3);
    expect(m.get(key('threefactor_delivery_queue_depth', { trigger: 'm-paused' }))).toBe(3);
    expect((await fetch(`${metricsServer.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${metricsServer.url}/graphql`)).status).toBe(404);
    expect((await fetch(`${metricsServer.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('still answers when the database does not: counters stay, queue gauges are left out', async () => {
    const gone = await freshDatabase({ max: 1 });
    const unwatch = watchDeliveryQueues(gone.sql, testLog());
    try {
      await gone.drop();
      const m = await scrape(api.url);
      expect(m.get(key('threefactor_deliveries_total', { trigger: 'm-ok', outcome: 'delivered' }))).toBe(3);
      expect([...m.keys()].some((k) => k.startsWith('threefactor_delivery_queue_depth'))).toBe(false);
    } finally {
      unwatch();
    }
    // Back to the API's own database.
    expect((await scrape(api.url)).get(key('threefactor_delivery_queue_depth', { trigger: 'm-paused' }))).toBe(3);
  });
});

describe('latency histogram', () => {
  it('observes event created_at → first attempt start, for routed deliveries only', async () => {
    const created = new Date('2030-01-01T00:00:00.000Z');
    const at = (ms: number) => new Date(created.getTime() + ms);
    recordOutcome('lat', 'delivered', 5, { attempt: 1, eventCreatedAt: created.toISOString(), startedAt: at(40), source: 'event' });
    recordOutcome('lat', 'retry', 5, { attempt: 1, eventCreatedAt: created, startedAt: at(3_000), source: 'event' });
    // A retry's wait is backoff, and a replay of an old event is not late: neither is latency.
    recordOutcome('lat', 'delivered', 5, { attempt: 2, eventCreatedAt: created, startedAt: at(60_000), source: 'event' });
    recordOutcome('lat', 'delivered', 5, { attempt: 1, eventCreatedAt: created, startedAt: at(86_400_000), source: 'replay' });
    // Without the detail only the counters and the attempt duration move.
    recordOutcome('lat', 'delivered', 5);
    const m = await scrape(api.url);
    expect(m.get(key('threefactor_delivery_latency_seconds_count', { trigger: 'lat' }))).toBe(2);
    expect(m.get(key('threefactor_delivery_latency_seconds_sum', { trigger: 'lat' }))).toBeCloseTo(3.04, 6);
    expect(m.get(key('threefactor_delivery_latency_seconds_bucket', { trigger: 'lat', le: '0.05' }))).toBe(1);
    expect(m.get(key('threefactor_delivery_latency_seconds_bucket', { trigger: 'lat', le: '5' }))).toBe(2);
    expect(m.get(key('threefactor_deliveries_total', { trigger: 'lat', outcome: 'delivered' }))).toBe(4);
    expect(m.get(key('threefactor_delivery_attempt_seconds_count', { trigger: 'lat' }))).toBe(5);
  });
});
