/**
 * Attaching the engine to a database another tool made, as a Hasura v2 team
 * would: its own `orders`, `payments` and `menu_items` in `public` (with its
 * own trigger, index, rows and drizzle history), triggers from a `hasura
 * metadata export` directory, an engine-only `dispatch` process (APP=none),
 * and writes from psql by a role that owns nothing and has no rights in the
 * schema threefactor. Everything written is captured and delivered in
 * Hasura's body; nothing of the application changes but the capture triggers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { commandEnv, runCommand, stopProcess, type CommandProcess } from '../support/processes.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';
import { wsSession } from '../support/subscriptions.js';

const run = promisify(execFile);
const METADATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/hasura-export/metadata');

/** The application's schema, as its own migration tool made it. */
const APP_SCHEMA = `
  create table public.orders (
    id uuid primary key default gen_random_uuid(),
    customer_name text not null,
    status text not null default 'new',
    total_cents int not null,
    updated_at timestamptz not null default now()
  );
  create table public.payments (
    id uuid primary key default gen_random_uuid(),
    order_id uuid not null references public.orders,
    amount_cents int not null,
    status text not null default 'pending'
  );
  create table public.menu_items (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    price_cents int not null,
    available boolean not null default true
  );
  create index payments_order_idx on public.payments (order_id);
  create function public.touch_updated_at() returns trigger language plpgsql as $$
    begin new.updated_at := now(); return new; end $$;
  create trigger orders_touch before update on public.orders for each row execute function public.touch_updated_at();
  create schema drizzle;
  create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint, name text, applied_at timestamptz default now());
  insert into drizzle.__drizzle_migrations (hash, created_at, name) values ('app-own-hash', 1700000000000, '0000_app_initial');
  insert into public.menu_items (name, price_cents) values ('Soup', 550), ('Bread', 300);
  insert into public.orders (customer_name, total_cents) values ('Existing customer', 1200);
`;

let db: TestDatabase;
let receiver: Receiver;
let dispatch: CommandProcess | undefined;
let api: CommandProcess | undefined;
let apiUrl: string;
const writer = `tf_writer_${randomBytes(4).toString('hex')}`;
const writerPassword = randomBytes(12).toString('hex');

/** Run SQL through psql, as `writer`, with only `public` on its search_path. */
async function psqlAsWriter(sqlText: string): Promise<string> {
  const u = new URL(urlFor(db.name));
  const { stdout } = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-c', sqlText], {
    env: {
      PATH: process.env.PATH,
      PGHOST: u.hostname,
      PGPORT: u.port || '5432',
      PGDATABASE: db.name,
      PGUSER: writer,
      PGPASSWORD: writerPassword,
      PGOPTIONS: '-c search_path=public',
    },
  });
  return stdout.trim();
}

/** What the application owns, to compare before and after attaching. */
async function applicationCatalog() {
  return {
    columns: await db.sql`
      select table_name, column_name, data_type, column_default, is_nullable
      from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
    triggers: await db.sql`
      select tg.tgrelid::regclass::text as rel, tg.tgname, pg_get_triggerdef(tg.oid) as def
      from pg_trigger as tg join pg_class as c on c.oid = tg.tgrelid
      where not tg.tgisinternal and tg.tgname <> 'threefactor_capture' and c.relnamespace::regnamespace::text <> 'threefactor'
      order by 1, 2`,
    indexes: await db.sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2`,
    history: await db.sql`select id, hash, created_at, name from drizzle.__drizzle_migrations order by id`,
    menu: await db.sql`select name, price_cents, available from public.menu_items order by name`,
  };
}

/** Every object outside pg_catalog and information_schema, by schema: what attaching may add is in `threefactor` only. */
async function objectsOutsideEngine() {
  return db.sql<{ kind: string; schema: string; name: string }[]>`
    select 'relation' as kind, n.nspname as schema, c.relname as name from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where n.nspname not in ('threefactor', 'pg_catalog', 'information_schema', 'pg_toast')
    union all
    select 'function', n.nspname, p.proname from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
    where n.nspname not in ('threefactor', 'pg_catalog', 'information_schema')
    union all
    select 'type', n.nspname, t.typname from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
    where n.nspname not in ('threefactor', 'pg_catalog', 'information_schema', 'pg_toast')
    union all
    select 'schema', nspname, nspname from pg_namespace where nspname not like 'pg_%' and nspname <> 'information_schema'
    order by 1, 2, 3`;
}

let catalogBefore: Awaited<ReturnType<typeof applicationCatalog>>;
let objectsBefore: Awaited<ReturnType<typeof objectsOutsideEngine>>;

beforeAll(async () => {
  receiver = await startReceiver();
  db = await freshDatabase({ empty: true });
  await db.sql.unsafe(APP_SCHEMA);
  // A role that may write the application's tables and nothing else.
  await db.sql.unsafe(`create role ${writer} login password '${writerPassword}'`);
  await db.sql.unsafe(`grant usage on schema public to ${writer}; grant select, insert, update, delete on public.orders, public.payments, public.menu_items to ${writer}`);
  catalogBefore = await applicationCatalog();
  objectsBefore = await objectsOutsideEngine();

  dispatch = runCommand(['dispatch'], {
    APP: 'none',
    DATABASE_URL: urlFor(db.name),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    TRIGGERS_FILE: METADATA,
    DISPATCH_POLL_MS: '100',
    ORDERS_BASE_URL: receiver.url,
    ORDERS_API_KEY: 'key-from-env',
    STATUS_WEBHOOK_URL: `${receiver.url}/status`,
  });
  await dispatch.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
  // The engine's API beside it: the admin API and the `events` stream, no app.
  api = runCommand(['start'], commandEnv(urlFor(db.name), { APP: 'none' }));
  apiUrl = String((await api.waitForLog((l) => l.msg === 'api listening', 30_000)).url).replace(/\/graphql$/, '');
}, 60_000);

afterAll(async () => {
  await Promise.all([dispatch, api].map((proc) => stopProcess(proc)));
  await receiver?.close();
  await db?.drop();
  // Roles are cluster-wide: drop it once its database is gone.
  const admin = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop role if exists ${writer}`);
  } finally {
    await admin.end();
  }
});

describe('an engine-only dispatcher attached to an application’s database', () => {
  it('starts with only the metadata’s default-source triggers, and reports what it ignores', async () => {
    const started = dispatch!.logs.find((l) => l.msg === 'dispatcher started')!;
    expect((started.triggers as string[]).sort()).toEqual(['menu_item_changed', 'order_created', 'order_status_changed', 'payment_settled']);
    expect(dispatch!.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('order_status_changed') && l.msg.includes('cleanup_config'))).toBe(true);
    const tables = await db.sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public' order by 1`;
    expect(tables.map((r) => r.t)).toEqual(['menu_items', 'orders', 'payments']);
  });

  it('captures psql writes by a non-owner role with search_path=public and delivers them in Hasura’s body', async () => {
    // An operator watches the event log live through the engine-only API.
    const ws = wsSession(apiUrl, await mintToken(TEST_SECRET, { role: 'admin', sub: 'ops' }));
    const stream = ws.subscribe<{ events: { type: string; aggregateId: string } }>(
      'subscription { events(filter: { aggregateType: "table:public.orders" }) { type aggregateId } }',
    );
    await waitFor('the events subscription', async () => {
      const res = await fetch(`${apiUrl}/metrics`);
      return /threefactor_realtime_subscribers\{kind="events"\} 1/.test(await res.text());
    });
    const orderId = await psqlAsWriter(`insert into orders (customer_name, total_cents) values ('Ada', 1850) returning id`);
    await psqlAsWriter(`update orders set total_cents = 1900 where id = '${orderId}'`); // not a listened column
    await psqlAsWriter(`update orders set status = 'paid' where id = '${orderId}'`);
    await psqlAsWriter(`insert into payments (order_id, amount_cents) values ('${orderId}', 1900)`);
    await psqlAsWriter(`update payments set status = 'succeeded' where order_id = '${orderId}'`);
    await psqlAsWriter(`delete from menu_items where name = 'Bread'`);

    await waitFor('every delivery', () =>
      receiver.forTrigger('order_created').length === 1 &&
      receiver.forTrigger('order_status_changed').length === 1 &&
      receiver.forTrigger('payment_settled').length === 1 &&
      receiver.forTrigger('menu_item_changed').length === 1,
    );

    const created = receiver.forTrigger('order_created')[0]!;
    expect(created.path).toBe('/order-created');
    expect(created.headers['x-api-key']).toBe('key-from-env');
    expect(created.headers['x-source']).toBe('hasura-export');
    // Signed with Standard Webhooks: the reference package verifies it.
    expect(() => new Webhook(TEST_WEBHOOK_SECRET).verify(created.body, created.headers as Record<string, string>)).not.toThrow();
    const body = created.json as unknown as HasuraEventPayload;
    const [row] = await db.sql<{ event_id: string; created_at: string; row: Record<string, unknown> }[]>`
      select e.id as event_id, to_json(e.created_at) #>> '{}' as created_at, e.payload #> '{data,new}' as row
      from threefactor.events as e where e.type = 'public.orders.INSERT' and e.aggregate_id = ${orderId}`;
    expect(body).toEqual({
      id: row!.event_id,
      created_at: row!.created_at,
      trigger: { name: 'order_created' },
      table: { schema: 'public', name: 'orders' },
      event: { op: 'INSERT', data: { old: null, new: row!.row }, session_variables: null, trace_context: null },
      delivery_info: { max_retries: 3, current_retry: 0 },
    });
    expect(body.event.data.new).toMatchObject({ id: orderId, customer_name: 'Ada', status: 'new', total_cents: 1850 });

    // The update trigger with a column list: only the status change, and only the payload's columns.
    const status = receiver.forTrigger('order_status_changed')[0]!;
    expect(status.path).toBe('/status');
    const change = status.json as unknown as HasuraEventPayload;
    expect(change.event.op).toBe('UPDATE');
    expect(change.event.data).toEqual({ old: { id: orderId, status: 'new' }, new: { id: orderId, status: 'paid' } });

    const payment = receiver.forTrigger('payment_settled')[0]!.json as unknown as HasuraEventPayload;
    expect(payment.table).toEqual({ schema: 'public', name: 'payments' });
    expect(payment.event.data.new).toMatchObject({ order_id: orderId, status: 'succeeded' });
    const deleted = receiver.forTrigger('menu_item_changed')[0]!.json as unknown as HasuraEventPayload;
    expect(deleted.event.op).toBe('DELETE');
    expect(deleted.event.data).toMatchObject({ old: { name: 'Bread', price_cents: 300 }, new: null });

    try {
      await stream.until((f) => f.data.length === 3, 10_000, 'the three order changes');
      expect(stream.data.map((d) => d.events)).toEqual([
        { type: 'public.orders.INSERT', aggregateId: orderId },
        { type: 'public.orders.UPDATE', aggregateId: orderId },
        { type: 'public.orders.UPDATE', aggregateId: orderId },
      ]);
    } finally {
      await ws.dispose();
    }
  });

  it('serves the admin API with no app: triggers with their queues, templates shown as written', async () => {
    const token = await mintToken(TEST_SECRET, { role: 'admin', sub: 'ops' });
    const res = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ eventTriggers { name target kind operations dead } }' }),
    });
    const body = (await res.json()) as { data: { eventTriggers: Array<{ name: string; target: string; kind: string; operations: string[]; dead: number }> } };
    expect(res.status).toBe(200);
    expect(body.data.eventTriggers.find((t) => t.name === 'order_created')).toEqual({
      name: 'order_created',
      target: 'webhook {{ORDERS_BASE_URL}}/order-created',
      kind: 'table',
      operations: ['INSERT'],
      dead: 0,
    });
    expect(body.data.eventTriggers.find((t) => t.name === 'order_status_changed')?.target).toBe('webhook from env STATUS_WEBHOOK_URL');
    // Without a token, nothing.
    const anonymous = await fetch(`${apiUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ eventTriggers { name } }' }) });
    expect(anonymous.status).toBe(401);
  });

  it('fails the write when the event cannot be written: capture is atomic with it', async () => {
    await db.sql.unsafe(`
      create function threefactor.refuse_test() returns trigger language plpgsql as $$ begin raise exception 'event refused'; end $$;
      create trigger refuse_test before insert on threefactor.events for each row execute function threefactor.refuse_test();`);
    try {
      await expect(psqlAsWriter(`insert into menu_items (name, price_cents) values ('Cake', 400)`)).rejects.toThrow(/event refused/);
      const [cake] = await db.sql<{ n: number }[]>`select count(*)::int as n from public.menu_items where name = 'Cake'`;
      expect(cake!.n).toBe(0);
    } finally {
      await db.sql.unsafe('drop trigger refuse_test on threefactor.events; drop function threefactor.refuse_test()');
    }
  });

  it('leaves the application’s columns, triggers, indexes, rows and drizzle history as they were; all else is in threefactor', async () => {
    const after = await applicationCatalog();
    expect(after.columns).toEqual(catalogBefore.columns);
    expect(after.triggers).toEqual(catalogBefore.triggers);
    expect(after.indexes).toEqual(catalogBefore.indexes);
    expect(after.history).toEqual(catalogBefore.history);
    expect(after.menu).toEqual(catalogBefore.menu.filter((m) => m.name !== 'Bread'));

    // The only engine objects on an application table: one capture trigger each, calling threefactor.capture.
    const capture = await db.sql<{ rel: string; def: string }[]>`
      select tgrelid::regclass::text as rel, pg_get_triggerdef(oid) as def from pg_trigger where tgname = 'threefactor_capture' order by 1`;
    expect(capture.map((c) => c.rel)).toEqual(['menu_items', 'orders', 'payments']);
    for (const c of capture) expect(c.def).toContain('EXECUTE FUNCTION threefactor.capture(');
    // Every other object outside threefactor is the application's own, plus the schema itself.
    const objects = await objectsOutsideEngine();
    expect([...objects].sort(byKey)).toEqual([...objectsBefore, { kind: 'schema', schema: 'threefactor', name: 'threefactor' }].sort(byKey));
  });

  it('drains on SIGTERM and exits 0', async () => {
    dispatch!.child.kill('SIGTERM');
    api!.child.kill('SIGTERM');
    expect((await dispatch!.exited).code).toBe(0);
    expect((await api!.exited).code).toBe(0);
  });
});

function byKey(a: { kind: string; schema: string; name: string }, b: { kind: string; schema: string; name: string }): number {
  return a.kind.localeCompare(b.kind) || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name);
}
