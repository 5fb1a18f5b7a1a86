/**
 * An idempotent completion. A connection lost after the completion statement
 * committed leaves the completer with an error for a write that happened, and
 * it sends the batch again: that second send must change nothing, log no
 * attempt twice, and say so, while an outcome truly dropped (its lease
 * re-claimed first) is still warned about. The lost reply is real: a TCP
 * proxy between the dispatcher and PostgreSQL lets the statement run, then
 * swallows the server's answer and cuts the connection. Checks read through
 * a direct connection.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { connect, type Database } from '../../src/engine/db/client.js';
import { ENGINE_MIGRATIONS, runMigrations } from '../../src/engine/db/migrate.js';
import { Completer, type FlushResult } from '../../src/engine/dispatcher/completer.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { claimDeliveries, type ClaimedDelivery } from '../../src/engine/events/sql/claimDeliveries.js';
import { completeDeliveries, type Completion } from '../../src/engine/events/sql/completeDeliveries.js';
import { reclaimExpiredLeases } from '../../src/engine/events/sql/reclaimExpiredLeases.js';
import { routingColumns } from '../../src/engine/events/triggers/routing.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { emitMany, TEST_WEBHOOK_SECRET } from '../support/events.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { endsWithReadyForQuery, pgExecutionOf, startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { waitFor } from '../support/wait.js';

const ALREADY = 'outcomes already written by an earlier send of this batch (the reply to its commit was lost)';
const LOST = 'lease lost before the outcome was written; another dispatcher re-ran them';
const COULD_NOT = 'could not record delivery outcomes; will retry';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  // One trigger per test, so what one test leaves pending is not claimed by the next.
  const inProcess = (name: string): TriggerDefinition => ({ name, match: { kind: 'event', types: [`${name}.x`] }, target: { kind: 'inProcess', handler: 'h' } });
  await syncTriggers(db.sql, [inProcess('twice'), inProcess('stale'), inProcess('drained')]);
});
afterAll(async () => db?.drop());

type LogLine = Record<string, unknown> & { msg?: string };

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: LogLine[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }), lines };
}

const webhook = (name: string, type: string, receiver: Receiver): TriggerDefinition => ({
  name,
  match: { kind: 'event', types: [type] },
  target: { kind: 'webhook', url: `${receiver.url}/${name}` },
  retry: { numRetries: 2, intervalSec: 0, maxIntervalSec: 0, timeoutSec: 5 },
});

/** A connection to the test database through the proxy instead of directly. */
function throughProxy(proxy: TcpProxy, applicationName: string): Database {
  const u = new URL(urlFor(db.name));
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return connect(u.toString(), { max: 4, applicationName });
}

async function proxyToDatabase(): Promise<TcpProxy> {
  const u = new URL(urlFor(db.name));
  return startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
}

/** The run of the completion statement, the only one that inserts attempt rows. */
const completionStatement = () => pgExecutionOf('insert into threefactor.delivery_attempts');

const delivered = (d: ClaimedDelivery): Completion => ({
  outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status: 'delivered', counted: true, delayMs: 0, httpStatus: 200, error: null },
  attempt: { deliveryId: d.id, attempt: d.attempts + 1, outcome: 'delivered', startedAt: new Date(), durationMs: 3, httpStatus: 200, responseBody: 'ok', error: null },
});
const retried = (d: ClaimedDelivery): Completion => ({
  outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status: 'pending', counted: true, delayMs: 60_000, httpStatus: 500, error: 'HTTP 500' },
  attempt: { deliveryId: d.id, attempt: d.attempts + 1, outcome: 'retry', startedAt: new Date(), durationMs: 4, httpStatus: 500, responseBody: 'no', error: 'HTTP 500' },
});
const released = (d: ClaimedDelivery): Completion => ({
  outcome: { id: d.id, trigger: d.triggerName, claims: d.claims, status: 'pending', counted: false, delayMs: 0, httpStatus: null, error: null },
});

async function deliveryRows(ids: string[]) {
  return db.sql`
    select id, status::text, attempts, claims, locked_by, run_at, last_status, last_error, updated_at, completed_at
    from threefactor.deliveries where id = any(${ids}::uuid[]) order by id`;
}
async function attemptRows(ids: string[]) {
  return db.sql<{ delivery_id: string; attempt: number; claim: number | null; applied: boolean | null; dispatcher_id: string }[]>`
    select id, delivery_id, attempt, claim, applied, dispatcher_id, outcome
    from threefactor.delivery_attempts where delivery_id = any(${ids}::uuid[]) order by id`;
}

/** Claims up to `n` of one trigger's deliveries for a dispatcher, leased for a minute. */
const claim = (dispatcherId: string, trigger: string, n: number) =>
  claimDeliveries(db.sql, { dispatcherId, triggers: [{ trigger, limit: n }], total: n, leaseMs: 60_000 });

/** As the rescuer does once a lease has expired: one transaction, so the holder's heartbeat cannot renew it in between. */
async function expireAndHandBack(id: string): Promise<void> {
  await db.sql.begin(async (t) => {
    await t`update threefactor.deliveries set locked_until = now() - interval '1 second' where id = ${id}`;
    await reclaimExpiredLeases(t);
  });
}

describe('the completion statement, sent twice', () => {
  it('applies outcomes once; the second send changes nothing, logs no attempt again and reports them already written', async () => {
    await emitMany(db, 'twice.x', 3);
    const claimed = await claim('d1', 'twice', 3);
    expect(claimed).toHaveLength(3);
    const [a, b, c] = claimed as [ClaimedDelivery, ClaimedDelivery, ClaimedDelivery];
    const ids = claimed.map((d) => d.id);
    const batch = [delivered(a), retried(b), released(c)];

    expect(await completeDeliveries(db.sql, 'd1', batch)).toEqual(['applied', 'applied', 'applied']);
    const deliveries = await deliveryRows(ids);
    const attempts = await attemptRows(ids);
    expect(attempts.map((r) => [r.delivery_id, r.attempt, r.claim, r.applied])).toEqual([
      [a.id, 1, a.claims, true],
      [b.id, 1, b.claims, true],
    ]);

    // The same batch again, as after a lost reply: nothing changes, nothing is logged twice.
    expect(await completeDeliveries(db.sql, 'd1', batch)).toEqual(['already', 'already', 'already']);
    expect(await deliveryRows(ids)).toEqual(deliveries);
    expect(await attemptRows(ids)).toEqual(attempts);
  });

  it('keeps a stale outcome lost when it is sent again: one attempt row, marked not applied, and the new holder untouched', async () => {
    await emitMany(db, 'stale.x', 2);
    const claimed = await claim('d1', 'stale', 2);
    expect(claimed).toHaveLength(2);
    const ids = claimed.map((d) => d.id);
    for (const id of ids) await expireAndHandBack(id);
    const retaken = await claim('d2', 'stale', 2);
    expect(retaken.map((d) => d.id).sort()).toEqual([...ids].sort());

    const [a, b] = claimed as [ClaimedDelivery, ClaimedDelivery];
    const batch = [delivered(a), released(b)];
    expect(await completeDeliveries(db.sql, 'd1', batch)).toEqual(['lost', 'lost']);
    const deliveries = await deliveryRows(ids);
    expect(deliveries.map((d) => [d.status, d.locked_by])).toEqual([
      ['running', 'd2'],
      ['running', 'd2'],
    ]);
    expect(await completeDeliveries(db.sql, 'd1', batch)).toEqual(['lost', 'lost']);
    expect(await deliveryRows(ids)).toEqual(deliveries);
    const attempts = await attemptRows(ids);
    expect(attempts.map((r) => [r.delivery_id, r.claim, r.applied, r.dispatcher_id])).toEqual([[a.id, a.claims, false, 'd1']]);
  });
});

describe('a completion whose commit reply is lost', () => {
  it('is sent again by the dispatcher, writes no attempt twice, and logs that it was already written, not a lost lease', async () => {
    const receiver = await startReceiver();
    const proxy = await proxyToDatabase();
    const viaProxy = throughProxy(proxy, 'ambiguous-dispatcher');
    const { log, lines } = capturedLog();
    let dispatcher: Dispatcher | undefined;
    try {
      let cut = false;
      // Armed before anything runs: the first completion's Parse carries the statement's text.
      void proxy.dropReply({ request: completionStatement(), replyComplete: endsWithReadyForQuery }).then(() => (cut = true));
      dispatcher = await startDispatcher({
        database: viaProxy,
        log,
        webhookSecret: TEST_WEBHOOK_SECRET,
        triggers: [webhook('ambiguous', 'ambiguous.x', receiver)],
        pollMs: 100,
      });
      await emitMany(db, 'ambiguous.x', 3);
      const ids = async () => (await db.sql<{ id: string }[]>`select id from threefactor.deliveries where trigger_name = 'ambiguous'`).map((r) => r.id);
      await waitFor(() => cut, 'the completion reply to be dropped');
      await waitFor(
        async () => (await db.sql`select 1 from threefactor.deliveries where trigger_name = 'ambiguous' and status <> 'delivered'`).length === 0,
        'every delivery delivered',
      );
      await waitFor(() => lines.some((l) => l.msg === ALREADY), 'the re-send to be logged');
      await dispatcher.stop({ deadlineMs: 2_000 });
      dispatcher = undefined;

      const all = await ids();
      expect(all).toHaveLength(3);
      // Delivered once each: one request, one attempt row, one counted attempt.
      expect(receiver.forTrigger('ambiguous')).toHaveLength(3);
      expect(new Set(receiver.forTrigger('ambiguous').map((r) => r.json.id)).size).toBe(3);
      const attempts = await attemptRows(all);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((r) => r.delivery_id)).size).toBe(3);
      for (const r of attempts) expect([r.attempt, r.claim, r.applied]).toEqual([1, 1, true]);
      const deliveries = await deliveryRows(all);
      for (const d of deliveries) expect([d.status, d.attempts, d.claims]).toEqual(['delivered', 1, 1]);

      // What the log says: the write failed, the re-send found it written; no lease was lost.
      expect(lines.some((l) => l.msg === COULD_NOT)).toBe(true);
      const already = lines.filter((l) => l.msg === ALREADY);
      const reported = already.flatMap((l) => l.deliveries as string[]);
      expect(reported.length).toBeGreaterThan(0);
      expect(already.reduce((n, l) => n + (l.count as number), 0)).toBe(reported.length);
      expect(new Set(reported).size).toBe(reported.length);
      for (const id of reported) expect(all).toContain(id);
      expect(lines.filter((l) => String(l.msg).includes('another dispatcher re-ran them'))).toEqual([]);
    } finally {
      await dispatcher?.stop({ deadlineMs: 2_000 });
      await viaProxy.close(1);
      await proxy.close();
      await receiver.close();
    }
  });

  it('a release sent again is reported already written, and is not applied twice', async () => {
    await emitMany(db, 'drained.x', 1);
    const [d] = await claim('drainer', 'drained', 1);
    expect(d).toBeDefined();
    const proxy = await proxyToDatabase();
    const viaProxy = throughProxy(proxy, 'ambiguous-release');
    const { log, lines } = capturedLog();
    const flushed: FlushResult[] = [];
    const completer = new Completer({ sql: viaProxy.sql, dispatcherId: 'drainer', log, maxBatch: 50, delayMs: 5, onFlushed: (_batch, r) => flushed.push(r) });
    try {
      const cut = proxy.dropReply({ request: completionStatement(), replyComplete: endsWithReadyForQuery });
      const release = released(d!);
      completer.add(release);
      await cut;
      await waitFor(() => flushed.length > 0, 'the re-sent release to be written');

      expect(lines.some((l) => l.msg === COULD_NOT)).toBe(true);
      expect(flushed).toEqual([{ applied: [], already: [release], lost: [] }]);
      const [row] = await deliveryRows([d!.id]);
      expect([row!.status, row!.attempts, row!.claims, row!.locked_by]).toEqual(['pending', 0, 1, null]);
      expect(await attemptRows([d!.id])).toEqual([]);
    } finally {
      await completer.stop(Date.now() + 2_000);
      await viaProxy.close(1);
      await proxy.close();
    }
  });
});

describe('a lease truly lost', () => {
  it('still warns that another dispatcher re-ran the delivery, and logs both attempts, only the new one applied', async () => {
    let secondArrived!: () => void;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    // The first dispatcher's request hangs until the other dispatcher's has arrived.
    const receiver = await startReceiver(async (_req, nth) => {
      if (nth === 1) {
        await second;
        return { status: 200 };
      }
      secondArrived();
      return { status: 200 };
    });
    const first = capturedLog();
    const other = capturedLog();
    const triggers = [webhook('contested', 'contested.x', receiver)];
    let a: Dispatcher | undefined;
    let b: Dispatcher | undefined;
    try {
      // One slot: while its request hangs, the first dispatcher cannot take the delivery back itself.
      a = await startDispatcher({ id: 'first', database: db, log: first.log, webhookSecret: TEST_WEBHOOK_SECRET, triggers, pollMs: 100, concurrency: 1, batchSize: 1 });
      await emitMany(db, 'contested.x', 1);
      await waitFor(() => receiver.requests.length === 1, 'the first request');
      const [contested] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where trigger_name = 'contested'`;
      const id = contested!.id;
      await expireAndHandBack(id);
      b = await startDispatcher({ id: 'other', database: db, log: other.log, webhookSecret: TEST_WEBHOOK_SECRET, triggers, pollMs: 100 });

      await waitFor(() => first.lines.some((l) => l.msg === LOST), 'the stale outcome to be warned about');
      const warning = first.lines.find((l) => l.msg === LOST)!;
      expect(warning.deliveries).toEqual([id]);
      expect(first.lines.some((l) => l.msg === ALREADY)).toBe(false);

      // The other dispatcher's outcome may still be on its way: it answered first, but writes on its own.
      await waitFor(async () => (await deliveryRows([id]))[0]!.status === 'delivered', 'the other dispatcher to record its delivery');
      const [row] = await deliveryRows([id]);
      expect([row!.status, row!.attempts, row!.claims]).toEqual(['delivered', 1, 2]);
      const attempts = await attemptRows([id]);
      expect(attempts.map((r) => [r.dispatcher_id, r.claim, r.applied]).sort()).toEqual([
        ['first', 1, false],
        ['other', 2, true],
      ]);
    } finally {
      secondArrived();
      await a?.stop({ deadlineMs: 2_000 });
      await b?.stop({ deadlineMs: 2_000 });
      await receiver.close();
    }
  });
});

describe('upgrading an installation that holds duplicate attempt rows (the bug this fixes)', () => {
  it('migrates, keeping them as they are: rows without a claim never conflict with the unique index', async () => {
    const legacyFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy-layout/drizzle');
    const old = await freshDatabase({ empty: true });
    try {
      await migrate(drizzle({ client: old.sql }), { migrationsFolder: legacyFolder });
      const def: TriggerDefinition = { name: 'dup', match: { kind: 'event', types: ['dup.x'] }, target: { kind: 'inProcess', handler: 'h' } };
      const r = routingColumns(def);
      await old.sql`
        insert into event_triggers (name, definition, enabled, match_kind, event_types, event_prefixes, capture_table, capture_ops, update_columns, ordering, max_attempts)
        values (${def.name}, ${old.sql.json(JSON.parse(JSON.stringify(def)))}, ${r.enabled}, ${r.matchKind}, ${r.eventTypes}, ${r.eventPrefixes},
                ${r.captureTable}, ${r.captureOps}, ${r.updateColumns}, ${r.ordering}, ${r.maxAttempts})`;
      await old.sql`insert into events (type, aggregate_type, aggregate_id, payload) values ('dup.x', 'test', 'a1', '{}')`;
      const [delivery] = await old.sql<{ id: string }[]>`select id from deliveries where trigger_name = 'dup'`;
      // The same attempt written twice, as a re-sent completion did.
      for (let i = 0; i < 2; i++) {
        await old.sql`
          insert into delivery_attempts (delivery_id, attempt, dispatcher_id, outcome, started_at, duration_ms, http_status, error)
          values (${delivery!.id}, 1, 'old:1:abc', 'delivered', '2026-11-30T10:00:00Z', 12, 200, null)`;
      }

      await runMigrations(urlFor(old.name), [ENGINE_MIGRATIONS, foodDeliveryMigrations]);
      const rows = await old.sql`select attempt, claim, applied from threefactor.delivery_attempts where delivery_id = ${delivery!.id}`;
      expect(rows).toEqual([
        { attempt: 1, claim: null, applied: null },
        { attempt: 1, claim: null, applied: null },
      ]);
      const [index] = await old.sql<{ def: string }[]>`
        select indexdef as def from pg_indexes where schemaname = 'threefactor' and indexname = 'delivery_attempts_delivery_idx'`;
      expect(index!.def).toContain('CREATE UNIQUE INDEX');
      expect(index!.def).toContain('(delivery_id, attempt, claim)');
    } finally {
      await old.drop();
    }
  });
});
