/**
 * The `deliveryStats` subscription (the operations console's live numbers),
 * against the real API over graphql-ws and a real dispatcher on the same
 * database: pushed every tick with the queues per trigger and the attempts
 * of the last tick; ONE read per tick however many subscribers (the
 * feed's reads counter, `threefactor_realtime_state_reads_total{kind="deliveryStats"}`),
 * and none once the last subscriber left; admin only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { stateReads } from '../../src/engine/realtime/metrics.js';
import { recordedTrigger, recorder, startRecordingDispatcher } from '../support/admin.js';
import { emitMany } from '../support/events.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { useTestApi } from '../support/useTestApi.js';
import { waitFor } from '../support/receiver.js';

const env = useTestApi();
const rec = recorder();
let dispatcher: Dispatcher;
const sessions: WsSession[] = [];

const STATS = `subscription { deliveryStats {
  at intervalMs windowMs queueDepth running dead
  triggers { trigger paused pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms }
  samples { at attempts delivered failed throughputPerSec latencyP50Ms }
} }`;

interface Stats {
  deliveryStats: {
    at: string;
    intervalMs: number;
    queueDepth: number;
    dead: number;
    triggers: Array<{ trigger: string; paused: boolean; pending: number; dead: number; delivered: number; failed: number }>;
    samples: Array<{ attempts: number; delivered: number; failed: number; throughputPerSec: number }>;
  };
}

const reads = async () => (await stateReads.get()).values.find((v) => v.labels.kind === 'deliveryStats')?.value ?? 0;

beforeAll(async () => {
  dispatcher = await startRecordingDispatcher(env.db, rec, [recordedTrigger('stats-ok', ['stats.ok']), recordedTrigger('stats-fail', ['stats.fail'])]);
  rec.failing.add('stats-fail');
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  await dispatcher?.stop({ deadlineMs: 2_000 });
});

function session(token: string): WsSession {
  const s = wsSession(env.api.url, token);
  sessions.push(s);
  return s;
}

describe('deliveryStats', () => {
  it('refuses anyone but an admin', async () => {
    const feed = session(await env.api.token('customer', '00000000-0000-4000-8000-000000000001')).subscribe(STATS);
    await feed.untilCompleted();
    expect(feed.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const service = session(await env.api.token('service')).subscribe(STATS);
    await service.untilCompleted();
    expect(service.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('pushes every tick the queues and the throughput, one read per tick for two subscribers, and stops reading when the last one leaves', async () => {
    const admin = await env.api.token('admin', 'ops');
    const before = await reads();
    const one = session(admin).subscribe<Stats>(STATS);
    // A second admin connection (another viewer, so not a shared execution): the feed is still the process's one.
    const two = session(await env.api.token('admin', 'ops-2')).subscribe<Stats>(STATS);
    await one.untilCount(1);
    await two.untilCount(1);
    const first = one.data[0]!.deliveryStats;
    expect(first.intervalMs).toBe(1000);
    expect(first.triggers.map((t) => t.trigger)).toEqual(['stats-fail', 'stats-ok']);

    await emitMany(env.db, 'stats.ok', 20);
    await emitMany(env.db, 'stats.fail', 3);
    await waitFor('the deliveries', () => rec.of('stats-ok').length === 20, 15_000);
    // The outcomes show in the next ticks: the window counts and the samples of the charts.
    await one.until(
      (f) => {
        const last = f.data.at(-1)?.deliveryStats;
        const ok = last?.triggers.find((t) => t.trigger === 'stats-ok');
        const bad = last?.triggers.find((t) => t.trigger === 'stats-fail');
        return ok?.delivered === 20 && bad?.dead === 3 && bad.failed === 3;
      },
      15_000,
      'the attempts in the stats',
    );
    const last = one.data.at(-1)!.deliveryStats;
    expect(last.dead).toBe(3);
    expect(last.samples.reduce((n, s) => n + s.attempts, 0)).toBe(23);
    expect(last.samples.reduce((n, s) => n + s.delivered, 0)).toBe(20);
    expect(Math.max(...last.samples.map((s) => s.throughputPerSec))).toBeGreaterThan(0);

    // Reads: one per tick, shared. Each subscriber got each tick once (the newest), so the
    // ticks seen bound the reads from above by one (a read may be in flight).
    await two.untilCount(one.results.length);
    const ticks = new Set([...one.data, ...two.data].map((d) => d.deliveryStats.at)).size;
    const made = (await reads()) - before;
    expect(made).toBeGreaterThanOrEqual(ticks);
    expect(made).toBeLessThanOrEqual(ticks + 1);
    expect(made).toBeLessThan(one.results.length + two.results.length);

    one.unsubscribe();
    two.unsubscribe();
    await new Promise((r) => setTimeout(r, 300));
    const stopped = await reads();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await reads()).toBe(stopped);
  }, 40_000);
});
