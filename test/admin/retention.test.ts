import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { runRetentionOnce, startRetention, type RetentionConfig } from '../../src/engine/dispatcher/retention.js';
import { setTriggerPaused } from '../../src/engine/events/sql/setTriggerPaused.js';
import type { InProcessHandler, TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import postgres from 'postgres';
import { DEAD_START, listDeadDeliveries } from '../../src/engine/events/sql/listDeadDeliveries.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/receiver.js';

let db: TestDatabase;

const KEEP_ALL: RetentionConfig = {
  RETENTION_DELIVERED_DAYS: 0,
  RETENTION_DEAD_DAYS: undefined,
  RETENTION_EVENTS_DAYS: undefined,
  RETENTION_INTERVAL_MS: 600_000,
  RETENTION_BATCH_SIZE: 3,
  RETENTION_BATCH_PAUSE_MS: 0,
};

const fails: InProcessHandler = async (p) => {
  if (p.event.data.new?.fail) throw new Error('refused');
};

const triggers: TriggerDefinition[] = [
  { name: 'ret-ok', match: { kind: 'event', types: ['ret.*'] }, target: { kind: 'inProcess', handler: 'fails' }, retry: { numRetries: 0 } },
  { name: 'ret-later', match: { kind: 'event', types: ['ret.*'] }, target: { kind: 'inProcess', handler: 'fails' } },
];

/** Event ids by role in the scenario. */
const ev = { oldOk: [] as string[], oldFail: '', newOk: [] as string[], newFail: '' };

interface StatusCount {
  trigger_name: string;
  status: string;
  n: number;
}

async function byStatus(): Promise<Record<string, number>> {
  const rows = await db.sql<StatusCount[]>`select trigger_name, status::text, count(*)::int as n from threefactor.deliveries group by 1, 2`;
  return Object.fromEntries(rows.map((r) => [`${r.trigger_name}:${r.status}`, r.n]));
}

// Events the test wrote: the engine's own (the completer's outcome batches, the pause) are left out.
const count = async (table: 'events' | 'deliveries' | 'delivery_attempts') =>
  (
    await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.${db.sql(table)}
      ${table === 'events' ? db.sql`where not starts_with(type, 'threefactor.')` : db.sql``}`
  )[0]!.n;

const run = (config: Partial<RetentionConfig>) => runRetentionOnce({ database: db, log: testLog(), config: { ...KEEP_ALL, ...config } });

beforeAll(async () => {
  db = await freshDatabase();
  const dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    triggers,
    inProcessHandlers: { fails },
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 100,
  });
  try {
    await setTriggerPaused(db.sql, 'ret-later', true);
    // History from a month ago comes first in the log, as it would have.
    const old = await db.sql<{ id: string; fail: boolean }[]>`
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload, created_at)
      select 'ret.x', 'thing', 'old' || n, jsonb_build_object('n', n, 'fail', n = 5), now() - interval '30 days'
      from generate_series(1, 5) as n
      returning id, (payload ->> 'fail')::boolean as fail`;
    ev.oldOk = old.filter((r) => !r.fail).map((r) => r.id);
    ev.oldFail = old.find((r) => r.fail)!.id;
    const fresh = await emitEvents(
      db,
      Array.from({ length: 7 }, (_, i) => ({ type: 'ret.x', aggregateType: 'thing', aggregateId: `new${i}`, payload: { n: i, fail: i === 6 } })),
    );
    ev.newOk = fresh.slice(0, 6);
    ev.newFail = fresh[6]!;
    await waitFor('ret-ok finished', async () => {
      const s = await byStatus();
      return s['ret-ok:delivered'] === 10 && s['ret-ok:dead'] === 2;
    });
  } finally {
    await dispatcher.stop({ deadlineMs: 2_000 });
  }
  // Age everything except the last two successful deliveries by ten days (pending ones included: age alone never deletes them).
  await db.sql`
    update threefactor.deliveries
    set created_at = created_at - interval '10 days',
        updated_at = updated_at - interval '10 days',
        completed_at = completed_at - interval '10 days'
    where not (trigger_name = 'ret-ok' and event_id = any(${ev.newOk.slice(4)}::uuid[]))`;
});
afterAll(async () => {
  await db.drop();
});

describe('retention', () => {
  it('does nothing when nothing is configured', async () => {
    const before = await byStatus();
    expect(await run({})).toMatchObject({ ran: false, delivered: 0, batches: 0 });
    expect(await byStatus()).toEqual(before);
  });

  it('deletes delivered deliveries older than RETENTION_DELIVERED_DAYS with their attempts, in batches, keeping dead, pending and events', async () => {
    expect(await byStatus()).toEqual({ 'ret-ok:delivered': 10, 'ret-ok:dead': 2, 'ret-later:pending': 12 });
    const attemptsBefore = await count('delivery_attempts');
    expect(attemptsBefore).toBe(12);

    const result = await run({ RETENTION_DELIVERED_DAYS: 7 });
    // 8 old delivered rows at 3 per statement: 3 + 3 + 2.
    expect(result).toEqual({ ran: true, delivered: 8, dead: 0, attempts: 8, events: 0, batches: 3 });
    expect(await byStatus()).toEqual({ 'ret-ok:delivered': 2, 'ret-ok:dead': 2, 'ret-later:pending': 12 });
    const kept = await db.sql<{ event_id: string }[]>`select event_id from threefactor.deliveries where trigger_name = 'ret-ok' and status = 'delivered' order by event_id`;
    expect(kept.map((r) => r.event_id)).toEqual([...ev.newOk.slice(4)].sort());
    // The dead letters keep their attempt logs; the deleted deliveries' are gone.
    expect(await count('delivery_attempts')).toBe(4);
    expect(await count('events')).toBe(12);

    expect(await run({ RETENTION_DELIVERED_DAYS: 7 })).toMatchObject({ ran: true, delivered: 0, batches: 0 });
  });

  it('keeps dead letters until RETENTION_DEAD_DAYS is set, then deletes only those older', async () => {
    expect(await run({ RETENTION_DEAD_DAYS: 30 })).toMatchObject({ ran: true, dead: 0 });
    expect((await byStatus())['ret-ok:dead']).toBe(2);
    // One dead letter is recent again (redelivered and died yesterday, say).
    await db.sql`update threefactor.deliveries set updated_at = now() - interval '1 day' where trigger_name = 'ret-ok' and event_id = ${ev.newFail}`;
    expect(await run({ RETENTION_DEAD_DAYS: 5 })).toMatchObject({ ran: true, dead: 1, attempts: 1, batches: 1 });
    const dead = await db.sql<{ event_id: string }[]>`select event_id from threefactor.deliveries where status = 'dead'`;
    expect(dead.map((r) => r.event_id)).toEqual([ev.newFail]);
  });

  it('deletes old events only with RETENTION_EVENTS_DAYS, and never one with a pending, running or dead delivery', async () => {
    // Every old event still has a pending delivery to the paused trigger.
    expect(await run({ RETENTION_EVENTS_DAYS: 20 })).toMatchObject({ ran: true, events: 0 });
    expect(await count('events')).toBe(12);

    // They get delivered, except old event 1 which stays pending, and the new dead letter keeps its event.
    await db.sql`
      update threefactor.deliveries set status = 'delivered', completed_at = now()
      where trigger_name = 'ret-later' and event_id = any(${[...ev.oldOk.slice(1), ev.oldFail, ev.newFail]}::uuid[])`;
    const result = await run({ RETENTION_EVENTS_DAYS: 20 });
    // Old events 2-4 and the old failed one (its dead letter was deleted above) go, with their delivered deliveries.
    expect(result).toMatchObject({ ran: true, events: 4, delivered: 4 });
    const left = await db.sql<{ id: string }[]>`select id from threefactor.events where not starts_with(type, 'threefactor.')`;
    expect(left.map((r) => r.id).sort()).toEqual([ev.oldOk[0]!, ...ev.newOk, ev.newFail].sort());
    expect(await db.sql`select 1 from threefactor.deliveries where event_id = any(${[...ev.oldOk.slice(1), ev.oldFail]}::uuid[])`).toHaveLength(0);
  });

  it('runs in one process at a time: a held lock means the pass is skipped', async () => {
    await db.sql`update threefactor.deliveries set status = 'delivered', completed_at = now() - interval '9 days' where trigger_name = 'ret-later' and event_id = ${ev.newOk[0]!}`;
    const other = await db.sql.reserve();
    try {
      await other`select pg_advisory_lock(${0x33665254})`;
      expect(await run({ RETENTION_DELIVERED_DAYS: 7 })).toMatchObject({ ran: false, delivered: 0 });
      expect(await db.sql`select 1 from threefactor.deliveries where trigger_name = 'ret-later' and event_id = ${ev.newOk[0]!}`).toHaveLength(1);
      await other`select pg_advisory_unlock(${0x33665254})`;
    } finally {
      other.release();
    }
    expect(await run({ RETENTION_DELIVERED_DAYS: 7 })).toMatchObject({ ran: true, delivered: 1 });
  });

  it('startRetention runs passes on its interval until stopped', async () => {
    await db.sql`update threefactor.deliveries set status = 'delivered', completed_at = now() - interval '9 days' where trigger_name = 'ret-later' and event_id = ${ev.newOk[1]!}`;
    const service = startRetention({ database: db, log: testLog(), config: { ...KEEP_ALL, RETENTION_DELIVERED_DAYS: 7 }, intervalMs: 50, firstRunMs: 0 });
    try {
      await waitFor('the scheduled pass', async () => (await db.sql`select 1 from threefactor.deliveries where event_id = ${ev.newOk[1]!} and trigger_name = 'ret-later'`).length === 0);
      // A later pass picks up rows that became old since.
      await db.sql`update threefactor.deliveries set status = 'delivered', completed_at = now() - interval '9 days' where trigger_name = 'ret-later' and event_id = ${ev.newOk[2]!}`;
      await waitFor('the next pass', async () => (await db.sql`select 1 from threefactor.deliveries where event_id = ${ev.newOk[2]!} and trigger_name = 'ret-later'`).length === 0);
    } finally {
      await service.stop();
    }
    await db.sql`update threefactor.deliveries set status = 'delivered', completed_at = now() - interval '9 days' where trigger_name = 'ret-later' and event_id = ${ev.newOk[3]!}`;
    await new Promise((r) => setTimeout(r, 200));
    expect(await db.sql`select 1 from threefactor.deliveries where event_id = ${ev.newOk[3]!} and trigger_name = 'ret-later'`).toHaveLength(1);
  });

  it('runs on a plain postgres.js pool too (parameters typed as text, not left to the driver’s Date serializer)', async () => {
    const plain = postgres(urlFor(db.name), { max: 2, onnotice: () => {} });
    try {
      await db.sql`update threefactor.deliveries set status = 'delivered', completed_at = now() - interval '9 days' where trigger_name = 'ret-later' and event_id = ${ev.newOk[4]!}`;
      expect(await runRetentionOnce({ database: { direct: plain }, log: testLog(), config: { ...KEEP_ALL, RETENTION_DELIVERED_DAYS: 7, RETENTION_EVENTS_DAYS: 1000 } })).toMatchObject({
        ran: true,
        // This one, and the one the stopped service left behind.
        delivered: 2,
      });
      const [now] = await plain<{ at: string }[]>`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`;
      const dead = await listDeadDeliveries(plain, { trigger: 'ret-ok', until: now!.at, after: DEAD_START, limit: 10 });
      expect(dead.map((d) => d.id)).toHaveLength(1);
    } finally {
      await plain.end();
    }
  });
});
