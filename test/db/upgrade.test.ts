/**
 * Upgrade in place: a database made by the earlier layout (engine tables in
 * `public`, one interleaved drizzle history), holding data and unfinished
 * deliveries, is migrated by today's code. Nothing is lost, capture and
 * routing keep working, and the pending work is delivered afterwards.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { routingColumns } from '../../src/engine/events/triggers/routing.js';
import { LEGACY_MIGRATIONS } from '../../src/engine/db/legacyLayout.js';
import { appliedCount, ENGINE_MIGRATIONS, migrationCount, runMigrations } from '../../src/engine/db/migrate.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

const LEGACY_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy-layout/drizzle');
const SETS = [ENGINE_MIGRATIONS, foodDeliveryMigrations];

let db: TestDatabase;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;

const hook = (url: string): TriggerDefinition => ({
  name: 'legacy-hook',
  match: { kind: 'event', types: ['order.placed'] },
  target: { kind: 'webhook', url: `${url}/hook` },
  retry: { numRetries: 2, intervalSec: 0, maxIntervalSec: 0, timeoutSec: 5 },
});
const capture = (url: string): TriggerDefinition => ({
  name: 'legacy-capture',
  match: { kind: 'table', schema: 'public', table: 'restaurants', insert: { columns: '*' }, update: { columns: ['name'] } },
  target: { kind: 'webhook', url: `${url}/capture` },
  retry: { numRetries: 2, intervalSec: 0, maxIntervalSec: 0, timeoutSec: 5 },
});

/** Everything the upgrade must keep, row for row. */
async function snapshot() {
  return {
    events: await db.sql`select id, seq, xid::text, type, aggregate_type, aggregate_id, payload, session, created_at from threefactor.events order by seq`,
    deliveries: await db.sql`
      select id, event_id, trigger_name, source, status::text, attempts, max_attempts, claims, locked_by, ordering_key, event_xid::text, event_seq, last_error
      from threefactor.deliveries order by event_seq, trigger_name`,
    attempts: await db.sql`select id, delivery_id, attempt, outcome, http_status, error from threefactor.delivery_attempts order by id`,
    triggers: await db.sql`select name, definition, match_kind, capture_table, capture_ops, max_attempts, paused from threefactor.event_triggers order by name`,
    restaurants: await db.sql`select * from public.restaurants order by name`,
  };
}

beforeAll(async () => {
  receiver = await startReceiver();
  db = await freshDatabase({ empty: true });
  // The earlier layout, exactly as the earlier main migrated it.
  await migrate(drizzle({ client: db.sql }), { migrationsFolder: LEGACY_FOLDER });

  // Triggers as the earlier sync wrote them, and its capture trigger.
  for (const def of [hook(receiver.url), capture(receiver.url)]) {
    const r = routingColumns(def);
    await db.sql`
      insert into event_triggers (name, definition, enabled, match_kind, event_types, event_prefixes, capture_table, capture_ops, update_columns, ordering, max_attempts)
      values (${def.name}, ${db.sql.json(JSON.parse(JSON.stringify(def)))}, ${r.enabled}, ${r.matchKind}, ${r.eventTypes}, ${r.eventPrefixes},
              ${r.captureTable}, ${r.captureOps}, ${r.updateColumns}, ${r.ordering}, ${r.maxAttempts})`;
  }
  await db.sql`select * from threefactor_sync_capture()`;

  // History: captured rows, domain events, and deliveries in every state.
  await db.sql`insert into restaurants (name, cuisine, address) values ('Alpha', 'thai', '1 A St'), ('Beta', 'pizza', '2 B St')`;
  await db.sql`
    insert into events (type, aggregate_type, aggregate_id, payload, session)
    select 'order.placed', 'order', 'o' || n, jsonb_build_object('n', n), '{"x-hasura-role":"customer"}'
    from generate_series(1, 6) as n`;
  const hookDeliveries = await db.sql<{ id: string }[]>`
    select d.id from deliveries as d where d.trigger_name = 'legacy-hook' order by d.event_seq`;
  expect(hookDeliveries).toHaveLength(6);
  const [delivered, dead, running] = hookDeliveries;
  await db.sql`update deliveries set status = 'delivered', attempts = 1, completed_at = now() where id = ${delivered!.id}`;
  await db.sql`update deliveries set status = 'dead', attempts = 3, last_error = 'HTTP 500' where id = ${dead!.id}`;
  // Claimed by a dispatcher of the earlier version that is gone: its lease lapses after the upgrade.
  await db.sql`update deliveries set status = 'running', claims = 1, locked_by = 'old:1:abc', locked_until = now() + interval '1 second' where id = ${running!.id}`;
  await db.sql`
    insert into delivery_attempts (delivery_id, attempt, dispatcher_id, outcome, started_at, duration_ms, http_status, error)
    values (${delivered!.id}, 1, 'old:1:abc', 'delivered', now(), 12, 200, null),
           (${dead!.id}, 3, 'old:1:abc', 'dead', now(), 40, 500, 'HTTP 500')`;
}, 60_000);

afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await receiver?.close();
  await db?.drop();
});

describe('upgrading an installation of the earlier layout in place', () => {
  let before: Awaited<ReturnType<typeof snapshot>>;

  it('moves the engine into the schema threefactor with every row, and maps both histories', async () => {
    const legacy = {
      events: await db.sql`select id, seq, xid::text, type, aggregate_type, aggregate_id, payload, session, created_at from public.events order by seq`,
      deliveries: await db.sql`select count(*)::int as n from public.deliveries`,
    };
    expect(legacy.events).toHaveLength(2 + 6);
    expect(legacy.deliveries[0]!.n).toBe(2 + 6);

    const { applied } = await runMigrations(urlFor(db.name), SETS);
    // The app's baseline was mapped, not re-run; its later migrations (order refunds) run.
    expect(applied).toBe(migrationCount(ENGINE_MIGRATIONS) + migrationCount(foodDeliveryMigrations) - 1);

    before = await snapshot();
    expect(before.events).toEqual(legacy.events);
    expect(before.deliveries).toHaveLength(8);
    expect(before.attempts).toHaveLength(2);
    expect(before.triggers.map((t) => t.name)).toEqual(['legacy-capture', 'legacy-hook']);

    // Nothing of the engine is left in public: no tables, types or functions.
    const [leftovers] = await db.sql<{ tables: number; types: number; functions: number }[]>`
      select (select count(*)::int from pg_tables where schemaname = 'public' and tablename in ('events', 'deliveries', 'delivery_attempts', 'event_triggers')) as tables,
             (select count(*)::int from pg_type where typnamespace = 'public'::regnamespace and typname = 'delivery_status') as types,
             (select count(*)::int from pg_proc where pronamespace = 'public'::regnamespace and proname like 'threefactor%') as functions`;
    expect(leftovers).toEqual({ tables: 0, types: 0, functions: 0 });

    // The histories: the engine's in threefactor, the app's baseline recorded, the old one gone.
    expect(await appliedCount(db.sql, ENGINE_MIGRATIONS)).toBe(migrationCount(ENGINE_MIGRATIONS));
    expect(await appliedCount(db.sql, foodDeliveryMigrations)).toBe(migrationCount(foodDeliveryMigrations));
    const [old] = await db.sql<{ ok: boolean }[]>`select to_regclass('drizzle.__drizzle_migrations') is null as ok`;
    expect(old!.ok).toBe(true);
    expect(LEGACY_MIGRATIONS).toHaveLength(6);

    // Running again changes nothing.
    expect((await runMigrations(urlFor(db.name), SETS)).applied).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('keeps capturing and routing: the capture trigger now runs threefactor.capture, and the identity continues', async () => {
    const [def] = await db.sql<{ def: string }[]>`
      select pg_get_triggerdef(oid) as def from pg_trigger where tgname = 'threefactor_capture' and tgrelid = 'public.restaurants'::regclass`;
    expect(def!.def).toContain('EXECUTE FUNCTION threefactor.capture(');
    const [maxSeq] = await db.sql<{ n: number }[]>`select max(seq)::int as n from threefactor.events`;
    await db.sql`update public.restaurants set name = 'Alpha II' where name = 'Alpha'`;
    const captured = await db.sql<{ seq: number; type: string }[]>`
      select seq::int, type from threefactor.events where seq > ${maxSeq!.n} order by seq`;
    expect(captured).toEqual([{ seq: maxSeq!.n + 1, type: 'public.restaurants.UPDATE' }]);
    const [routed] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from threefactor.deliveries as d join threefactor.events as e on e.id = d.event_id
      where e.seq = ${maxSeq!.n + 1} and d.trigger_name = 'legacy-capture'`;
    expect(routed!.n).toBe(1);
  });

  it('delivers every unfinished delivery afterwards, the lapsed lease included, and leaves finished ones alone', async () => {
    dispatcher = await startDispatcher({
      database: db,
      log: testLog(),
      webhookSecret: TEST_WEBHOOK_SECRET,
      triggers: [hook(receiver.url), capture(receiver.url)],
      pollMs: 100,
      leaseMs: 1_000,
    });
    // 3 pending + 1 lapsed running of legacy-hook; 2 inserts + 1 update of legacy-capture.
    await waitFor('every unfinished delivery', () => receiver.forTrigger('legacy-hook').length >= 4 && receiver.forTrigger('legacy-capture').length >= 3);
    await waitFor('outcomes written', async () => {
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status in ('pending', 'running')`;
      return row!.n === 0;
    });
    const after = await db.sql<{ status: string; n: number }[]>`
      select status::text, count(*)::int as n from threefactor.deliveries group by status order by status`;
    expect(after).toEqual([
      { status: 'dead', n: 1 },
      { status: 'delivered', n: 8 },
    ]);
    // Each event delivered once per trigger (the earlier delivery not again), and the history kept.
    const hookIds = receiver.forTrigger('legacy-hook').map((r) => r.json.id);
    expect(new Set(hookIds).size).toBe(hookIds.length);
    expect(hookIds).toHaveLength(4);
    const [attempts] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.delivery_attempts`;
    expect(attempts!.n).toBe(2 + 4 + 3);
  });
});
