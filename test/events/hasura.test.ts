/**
 * Hasura compatibility: a Hasura metadata file of event triggers loads
 * unchanged, and a Hasura-style handler receives exactly what Hasura sends.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HasuraMetadataError, parseHasuraMetadataEntries } from '../../src/engine/events/triggers/hasuraMetadata.js';
import { loadTriggersFile } from '../../src/engine/events/triggers/triggersFile.js';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import type { TestDatabase } from '../support/db.js';
import { useDispatcher } from '../support/useDispatcher.js';
import { waitFor, type Receiver } from '../support/receiver.js';

const parseHasuraMetadata = (json: unknown, file?: string) => parseHasuraMetadataEntries(json, file).triggers.map((t) => t.definition);
const loadHasuraMetadataFile = async (file: string) => (await loadTriggersFile(file, { source: 'default' })).triggers.map((t) => t.definition);

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/hasura-triggers.json');

describe('Hasura metadata file', () => {
  it('loads the bulk file as is, with Hasura’s defaults', async () => {
    const triggers = await loadHasuraMetadataFile(FIXTURE);
    const hour = 3600;
    // Hasura's outcome rule: every non-2xx retried up to num_retries, no status permanent, no pause on 410.
    const hasuraRule = { permanentStatuses: [], pauseOnGone: false };
    expect(triggers).toEqual<TriggerDefinition[]>([
      {
        name: 'order_placed',
        match: { kind: 'table', schema: 'public', table: 'orders', insert: { columns: '*' } },
        target: { kind: 'webhookFromEnv', env: 'ORDER_WEBHOOK_URL' },
        headers: [
          { name: 'X-Api-Key', valueFromEnv: 'ORDER_WEBHOOK_KEY' },
          { name: 'X-Source', value: 'hasura-metadata' },
        ],
        retry: { numRetries: 3, intervalSec: 5, timeoutSec: 20, maxIntervalSec: hour },
        ...hasuraRule,
      },
      {
        name: 'order_status_changed',
        match: { kind: 'table', schema: 'public', table: 'orders', update: { columns: ['status', 'status_reason'] } },
        target: { kind: 'webhookFromEnv', env: 'ORDER_WEBHOOK_URL' },
        retry: { numRetries: 1, intervalSec: 2, timeoutSec: 10, maxIntervalSec: hour },
        ...hasuraRule,
      },
      {
        name: 'driver_availability',
        match: { kind: 'table', schema: 'public', table: 'drivers', update: { columns: ['available'] }, delete: { columns: '*' }, enableManual: true },
        target: { kind: 'webhookFromEnv', env: 'DRIVER_WEBHOOK_URL' },
        // Hasura's defaults: no retries, 10 s interval, 60 s timeout.
        retry: { numRetries: 0, intervalSec: 10, timeoutSec: 60, maxIntervalSec: hour },
        ...hasuraRule,
      },
      {
        name: 'payment_failed',
        match: { kind: 'table', schema: 'public', table: 'payments', update: { columns: ['status', 'failure_reason'] } },
        target: { kind: 'webhook', url: 'http://127.0.0.1:4100/payment-failed' },
        headers: [{ name: 'Authorization', valueFromEnv: 'PAYMENTS_HOOK_TOKEN' }],
        retry: { numRetries: 5, intervalSec: 10, timeoutSec: 60, maxIntervalSec: hour },
        ...hasuraRule,
      },
    ]);
  });

  it('accepts one entry alone or an array of entries, and applies delete_event_trigger', () => {
    const create = (name: string) => ({ type: 'create_event_trigger', args: { name, table: { schema: 'public', name: 'drivers' }, webhook: 'http://127.0.0.1:1/x', insert: { columns: '*' } } });
    expect(parseHasuraMetadata(create('one')).map((t) => t.name)).toEqual(['one']);
    expect(parseHasuraMetadata([create('a'), create('b'), { type: 'pg_delete_event_trigger', args: { name: 'a', source: 'default' } }]).map((t) => t.name)).toEqual(['b']);
  });

  it('rejects malformed files with an error naming the entry', async () => {
    const err = (json: unknown) => {
      try {
        parseHasuraMetadata(json, 'triggers.json');
      } catch (e) {
        expect(e).toBeInstanceOf(HasuraMetadataError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    const ok = { name: 'x', table: { schema: 'public', name: 'drivers' }, webhook: 'http://127.0.0.1:1/x', insert: { columns: '*' } };
    expect(err({ type: 'bulk', args: [{ type: 'pg_create_event_trigger', args: { ...ok, webhook: undefined } }] })).toBe(
      'triggers.json: $.args[0] (pg_create_event_trigger "x"): webhook exactly one of webhook or webhook_from_env is required',
    );
    expect(err([{ type: 'create_event_trigger', args: ok }, { type: 'create_event_trigger', args: { ...ok, name: 'y', update: { columns: 'some' } } }])).toMatch(
      /^triggers\.json: \$\[1\] \(create_event_trigger "y"\): update\.columns /,
    );
    expect(err({ type: 'create_event_trigger', args: { ...ok, insert: undefined } })).toBe(
      'triggers.json: $ (create_event_trigger "x"): insert at least one of insert, update, delete or enable_manual is required',
    );
    expect(err({ type: 'create_event_trigger', args: { ...ok, request_transform: { body: {} } } })).toBe(
      'triggers.json: $ (create_event_trigger "x"): request_transform is not supported by threefactor',
    );
    expect(err({ type: 'create_event_trigger', args: { ...ok, retry_conf: { num_retries: -1 } } })).toMatch(/retry_conf\.num_retries/);
    expect(err({ type: 'bulk', args: {} })).toBe('triggers.json: $ (bulk): args must be an array');
    expect(err([1])).toBe('triggers.json: $[0]: expected an object {"type": …, "args": …}');
    expect(err([{ type: 'create_event_trigger', args: ok }, { type: 'create_event_trigger', args: ok }])).toMatch(/\$\[1\] \(create_event_trigger "x"\): a trigger of that name is already defined/);
    await expect(loadHasuraMetadataFile(path.join(path.dirname(FIXTURE), 'missing.json'))).rejects.toThrow(/missing\.json: cannot read \(ENOENT\)/);
  });
});

describe('delivering triggers from a Hasura metadata file', () => {
  let db: TestDatabase;
  let receiver: Receiver;

  useDispatcher(
    async () => ({
      pollMs: 100,
      triggers: await loadHasuraMetadataFile(FIXTURE),
      env: { ORDER_WEBHOOK_URL: `${receiver.url}/orders`, ORDER_WEBHOOK_KEY: 'key-123', DRIVER_WEBHOOK_URL: `${receiver.url}/drivers` },
    }),
    (env) => ({ db, receiver } = env),
  );

  it('sends Hasura’s exact body for a row insert, with the file’s headers', async () => {
    const [order] = await db.sql<{ id: string }[]>`
      with c as (insert into customers (name, email) values ('Ada', 'ada@example.test') returning id),
           r as (insert into restaurants (name, cuisine, address) values ('Noodle Bar', 'noodles', '1 Main St') returning id)
      insert into orders (customer_id, restaurant_id, total_cents, delivery_address)
      select c.id, r.id, 1850, '2 Side St' from c, r
      returning id`;
    await waitFor('the order_placed delivery', () => receiver.forTrigger('order_placed').length === 1);
    const req = receiver.forTrigger('order_placed')[0]!;
    const [row] = await db.sql<{ event_id: string; created_at: string; row: Record<string, unknown> }[]>`
      select e.id as event_id, to_json(e.created_at) #>> '{}' as created_at, to_jsonb(o) as row
      from threefactor.events as e join orders as o on o.id::text = e.aggregate_id
      where e.type = 'public.orders.INSERT' and o.id = ${order!.id}`;
    const expected: HasuraEventPayload = {
      id: row!.event_id,
      created_at: row!.created_at,
      trigger: { name: 'order_placed' },
      table: { schema: 'public', name: 'orders' },
      event: { op: 'INSERT', data: { old: null, new: row!.row }, session_variables: null, trace_context: null },
      delivery_info: { max_retries: 3, current_retry: 0 },
    };
    expect(req.json).toEqual(expected);
    expect(req.headers['x-api-key']).toBe('key-123');
    expect(req.headers['x-source']).toBe('hasura-metadata');

    // Listened columns only: a total change is not delivered, a status change is, with old and new rows.
    await db.sql`update orders set total_cents = 1900 where id = ${order!.id}`;
    await db.sql`update orders set status = 'validated', version = version + 1 where id = ${order!.id}`;
    await waitFor('the status change', () => receiver.forTrigger('order_status_changed').length === 1);
    const change = receiver.forTrigger('order_status_changed')[0]!.json as unknown as HasuraEventPayload;
    expect(change.event.op).toBe('UPDATE');
    expect(change.event.data.old).toMatchObject({ status: 'placed', total_cents: 1900 });
    expect(change.event.data.new).toMatchObject({ status: 'validated', total_cents: 1900, version: 2 });
    expect(change.delivery_info).toEqual({ max_retries: 1, current_retry: 0 });
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'order_status_changed'`;
    expect(count!.n).toBe(1);
  });
});
