/**
 * Table capture (CDC) end to end: raw SQL writes to a captured table become
 * events and deliveries in the same transaction; column filters; the
 * write-back loop guard; trigger sync idempotence.
 */
import { describe, expect, it } from 'vitest';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { drivers } from '../../src/apps/food-delivery/db/schema.js';
import { eq } from 'drizzle-orm';
import { connect } from '../../src/engine/db/client.js';
import { createAuthenticator, mintToken } from '../../src/engine/server/auth.js';
import { createRealtime } from '../../src/engine/realtime/realtime.js';
import { buildContext } from '../../src/engine/server/yoga.js';
import { TEST_SECRET, testConfig } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useDispatcher } from '../support/useDispatcher.js';
import { testLog } from '../support/events.js';
import { waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;

const body = (r: { json: unknown }) => r.json as HasuraEventPayload;

/** Listens to availability changes only; its handler (in process) writes back to the same table. */
const availability: TriggerDefinition = {
  name: 'driver_availability',
  match: { kind: 'table', schema: 'public', table: 'drivers', insert: { columns: '*' }, update: { columns: ['available'] }, delete: { columns: '*' } },
  target: { kind: 'inProcess', handler: 'availability' },
  retry: { numRetries: 0 },
};
/** Any update of drivers, as a webhook. */
const audit: TriggerDefinition = {
  name: 'driver_audit',
  match: { kind: 'table', schema: 'public', table: 'drivers', update: { columns: '*' } },
  target: { kind: 'webhookFromEnv', env: 'AUDIT_URL' },
  retry: { numRetries: 0 },
};

const handled: HasuraEventPayload[] = [];

useDispatcher(
  () => ({
    triggers: [availability, audit],
    pollMs: 200,
    env: { AUDIT_URL: `${receiver.url}/audit` },
    inProcessHandlers: {
      // A handler that writes back to the table it listens to, through the
      // write path, saying which trigger it acts for: the loop guard.
      availability: async (payload) => {
        handled.push(payload);
        const row = payload.event.data.new;
        if (payload.event.op === 'INSERT' && row?.name === 'loopy') {
          await withEventTransaction(db.db, { session: { 'x-hasura-role': 'service' }, traceContext: null, eventIds: [], causedBy: payload.trigger.name }, async ({ tx }) => {
            await tx.update(drivers).set({ available: false }).where(eq(drivers.id, String(row.id)));
          });
        }
      },
    },
  }),
  (env) => ({ db, receiver } = env),
);

async function deliveriesOf(trigger: string, driverId: string) {
  return db.sql<{ op: string; status: string }[]>`
    select e.payload ->> 'op' as op, d.status
    from threefactor.deliveries as d join threefactor.events as e on e.id = d.event_id
    where d.trigger_name = ${trigger} and e.aggregate_id = ${driverId}
    order by e.seq`;
}

describe('table capture', () => {
  it('turns raw SQL insert, update and delete into Hasura table threefactor.events, with the session of the transaction', async () => {
    const [row] = await db.sql.begin(async (tx) => {
      await tx`select set_config('threefactor.session', '{"x-hasura-role":"admin","x-hasura-user-id":"ops"}', true)`;
      return tx<{ id: string }[]>`insert into drivers (name) values ('raw') returning id`;
    });
    const id = row!.id;
    await db.sql`update drivers set available = false where id = ${id}`;
    await db.sql`delete from drivers where id = ${id}`;
    await waitFor('three in-process deliveries', () => handled.filter((p) => (p.event.data.new ?? p.event.data.old)?.id === id).length === 3);
    const mine = handled.filter((p) => (p.event.data.new ?? p.event.data.old)?.id === id);
    expect(mine.map((p) => p.event.op)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    const [insert, update, del] = mine as [HasuraEventPayload, HasuraEventPayload, HasuraEventPayload];
    expect(insert.table).toEqual({ schema: 'public', name: 'drivers' });
    expect(insert.trigger).toEqual({ name: 'driver_availability' });
    expect(insert.event.data).toEqual({ old: null, new: { id, name: 'raw', available: true, created_at: expect.any(String) } });
    expect(insert.event.session_variables).toEqual({ 'x-hasura-role': 'admin', 'x-hasura-user-id': 'ops' });
    expect(update.event.data.old).toMatchObject({ id, available: true });
    expect(update.event.data.new).toMatchObject({ id, available: false });
    expect(update.event.session_variables).toBeNull();
    expect(del.event.data).toEqual({ old: { id, name: 'raw', available: false, created_at: expect.any(String) }, new: null });
    // The audit trigger (update only, any column) got the update.
    await waitFor('the audit webhook', () => receiver.forTrigger('driver_audit').some((r) => body(r).event.data.new?.id === id));
  });

  it('creates no delivery for an update of a column the trigger does not listen to, nor for a no-op update', async () => {
    const [row] = await db.sql<{ id: string }[]>`insert into drivers (name) values ('quiet') returning id`;
    const id = row!.id;
    await db.sql`update drivers set name = 'renamed' where id = ${id}`;
    await db.sql`update drivers set name = name where id = ${id}`;
    await waitFor('the audit webhook for the rename', () => receiver.forTrigger('driver_audit').some((r) => body(r).event.data.new?.id === id));
    // Both trigger's deliveries exist by commit time: no waiting needed for what must not be there.
    expect(await deliveriesOf('driver_availability', id)).toEqual([{ op: 'INSERT', status: expect.any(String) }]);
    expect((await deliveriesOf('driver_audit', id)).map((d) => d.op)).toEqual(['UPDATE']);
    const [events] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events where aggregate_id = ${id}`;
    expect(events!.n).toBe(2); // the no-op update wrote no event
  });

  it('never routes a write-back to the trigger it was made for, but does to other triggers', async () => {
    const [row] = await db.sql<{ id: string }[]>`insert into drivers (name) values ('loopy') returning id`;
    const id = row!.id;
    // The handler's write-back changes `available`, which the availability trigger listens to.
    await waitFor('the write-back reaching the audit trigger', () =>
      receiver.forTrigger('driver_audit').some((r) => body(r).event.data.new?.id === id && body(r).event.data.new?.available === false),
    );
    expect((await deliveriesOf('driver_availability', id)).map((d) => d.op)).toEqual(['INSERT']);
    const [writeBack] = await db.sql<{ session: Record<string, string> }[]>`
      select session from threefactor.events where aggregate_id = ${id} and type = 'public.drivers.UPDATE'`;
    expect(writeBack!.session).toEqual({ 'x-hasura-role': 'service' });

    // Without the guard the same write-back would be routed back (a loop).
    await db.sql`update drivers set available = true where id = ${id}`;
    expect((await deliveriesOf('driver_availability', id)).map((d) => d.op)).toEqual(['INSERT', 'UPDATE']);
  });
});

describe('trigger sync', () => {
  it('is idempotent, safe when several processes sync at once, and removes capture with the trigger', async () => {
    const again = await syncTriggers(db.sql, [availability, audit]);
    expect(again.changed).toEqual([]);
    expect(again.capture).toEqual([]);

    const others = [connect(db.url, { max: 1 }), connect(db.url, { max: 1 }), connect(db.url, { max: 1 })];
    try {
      const changedRetry = { ...audit, retry: { numRetries: 2 } };
      const results = await Promise.all(others.map((o) => syncTriggers(o.sql, [availability, changedRetry])));
      // Exactly one of them wrote the change; the others found it done.
      expect(results.map((r) => r.changed.length).sort()).toEqual([0, 0, 1]);
      const [t] = await db.sql<{ max_attempts: number }[]>`select max_attempts from threefactor.event_triggers where name = 'driver_audit'`;
      expect(t!.max_attempts).toBe(3);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }

    const onCustomers: TriggerDefinition = { ...audit, name: 'customer_audit', match: { kind: 'table', schema: 'public', table: 'customers', insert: { columns: '*' } } };
    expect((await syncTriggers(db.sql, [onCustomers])).capture).toEqual([{ table: 'public.customers', action: 'installed' }]);
    expect((await syncTriggers(db.sql, [{ ...onCustomers, enabled: false }])).capture).toEqual([{ table: 'public.customers', action: 'removed' }]);
    const [captured] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_trigger where tgname = 'threefactor_capture' and tgrelid = 'customers'::regclass`;
    expect(captured!.n).toBe(0);
  });

  it('refuses a trigger on a table that does not exist, naming it', async () => {
    const missing: TriggerDefinition = { ...audit, name: 'ghost', match: { kind: 'table', schema: 'public', table: 'ghosts', insert: { columns: '*' } } };
    await expect(syncTriggers(db.sql, [missing])).rejects.toThrow('event trigger "ghost" captures table public.ghosts, which does not exist');
    const [row] = await db.sql`select 1 from threefactor.event_triggers where name = 'ghost'`;
    expect(row).toBeUndefined();
  });

  it('refuses malformed definitions, naming the trigger', async () => {
    await expect(syncTriggers(db.sql, [{ ...audit, name: 'bad name!' }])).rejects.toThrow(/event trigger "bad name!": name must be/);
    await expect(syncTriggers(db.sql, [{ ...audit, name: 'x', target: { kind: 'webhook', url: 'ftp://nope' } }])).rejects.toThrow('event trigger "x": target.url must be an http(s) URL');
    await expect(syncTriggers(db.sql, [audit, audit])).rejects.toThrow('event trigger "driver_audit" is declared twice');
    await expect(syncTriggers(db.sql, [{ ...audit, name: 'y', match: { kind: 'event', types: ['a*b'] } }])).rejects.toThrow('may only end with "*"');
  });
});

describe('loop guard through the API', () => {
  it('takes the causing trigger from x-threefactor-trigger for the service role only', async () => {
    // The hub is never started: building a context only carries it.
    const deps = { auth: createAuthenticator(testConfig(), ['customer']), database: db, log: testLog(), realtime: createRealtime(db, testLog(), { subscriberBuffer: 10 }) };
    const ctx = async (role: 'service' | 'customer', causedBy: string) =>
      (await buildContext(deps, { token: await mintToken(TEST_SECRET, { role, sub: role }), causedBy })).events.causedBy;
    expect(await ctx('service', 'driver_availability')).toBe('driver_availability');
    expect(await ctx('customer', 'driver_availability')).toBeNull();
    expect(await ctx('service', "x'; drop table threefactor.events")).toBeNull();
  });
});
