/**
 * The admin reads over real HTTP: the event log and the deliveries as
 * keyset-paged connections with their filters (dead letters included), the
 * attempt logs of a webhook that fails with a real HTTP status and body,
 * and the triggers with their queues, with nothing secret shown.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { pauseTrigger } from '../../src/engine/events/admin/pause.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { DELIVERY_FIELDS, recordedTrigger, recorder, startRecordingDispatcher, TRIGGER_FIELDS, type Connection, type DeliveryView, type TriggerView } from '../support/admin.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';
import { ok, refused } from '../support/orders.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let api: TestApi;
let admin: string;
let dispatcher: Dispatcher;
let receiver: Receiver;
const rec = recorder();

interface EventView {
  id: string;
  cursor: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  session: Record<string, string> | null;
  createdAt: string;
  deliveries: Array<{ triggerName: string; status: string }>;
}

const EVENT_FIELDS = 'id cursor type aggregateType aggregateId payload session createdAt deliveries { triggerName status }';

const gqlAdmin = <T>(query: string, variables?: Record<string, unknown>) => api.gql<T>(query, variables, admin);

async function events(args: { filter?: Record<string, unknown>; first?: number; after?: string }): Promise<Connection<EventView>> {
  const res = await gqlAdmin<{ events: Connection<EventView> }>(
    `query($filter: EventLogFilter, $first: Int, $after: String) {
      events(filter: $filter, first: $first, after: $after) { edges { cursor node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
    args,
  );
  return ok(res).events;
}

async function deliveries(filter: Record<string, unknown>, first = 20, after?: string): Promise<Connection<DeliveryView>> {
  const res = await gqlAdmin<{ deliveries: Connection<DeliveryView> }>(
    `query($filter: DeliveryFilter, $first: Int, $after: String) {
      deliveries(filter: $filter, first: $first, after: $after) { edges { cursor node { ${DELIVERY_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
    { filter, first, after },
  );
  return ok(res).deliveries;
}

const nodes = <T>(c: Connection<T>) => c.edges.map((e) => e.node);

/** Event ids written by the scenario, in log order. */
let written: string[] = [];
let between: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  admin = await api.token('admin', 'ops-1');
  receiver = await startReceiver(() => ({ status: 500, body: `boom ${'x'.repeat(10_000)}` }));
  const triggers: TriggerDefinition[] = [
    recordedTrigger('q-orders', ['order.*']),
    { name: 'q-hook', match: { kind: 'event', types: ['order.paid'] }, target: { kind: 'webhook', url: `${receiver.url}/hook` }, retry: { numRetries: 1, intervalSec: 0.05 } },
    recordedTrigger('q-queued', ['order.placed']),
    {
      name: 'q-secret',
      match: { kind: 'event', types: ['never.*'] },
      target: { kind: 'webhook', url: 'https://user:hunter2@hooks.example.com/in?token=abc123' },
      headers: [
        { name: 'X-Api-Key', value: 'key-value-123' },
        { name: 'X-From-Env', valueFromEnv: 'SOME_SECRET' },
      ],
    },
  ];
  dispatcher = await startRecordingDispatcher(db, rec, triggers);
  await pauseTrigger(db, 'q-queued');
  const session = { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'c-1' };
  written = await emitEvents(
    db,
    [
      { type: 'order.placed', aggregateType: 'order', aggregateId: 'o-1', payload: { orderId: 'o-1', status: 'placed' } },
      { type: 'order.placed', aggregateType: 'order', aggregateId: 'o-2', payload: { orderId: 'o-2', status: 'placed' } },
      { type: 'order.paid', aggregateType: 'order', aggregateId: 'o-1', payload: { orderId: 'o-1', status: 'paid' } },
    ],
    { session },
  );
  const [now] = await db.sql<{ at: string }[]>`select to_json(now()) #>> '{}' as at`;
  between = now!.at;
  written.push(...(await emitEvents(db, [{ type: 'order.paid', aggregateType: 'order', aggregateId: 'o-2', payload: { orderId: 'o-2', status: 'paid' } }])));
  written.push(...(await emitEvents(db, [{ type: 'driver.moved', aggregateType: 'driver', aggregateId: 'd-1', payload: { lat: 1 } }])));
  await waitFor('q-orders delivered', () => rec.idsOf('q-orders').length === 4);
  await waitFor('q-hook dead twice', async () => {
    const [r] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'q-hook' and status = 'dead'`;
    return r!.n === 2;
  });
});
afterAll(async () => {
  await dispatcher.stop({ deadlineMs: 2_000 });
  await api.close();
  await receiver.close();
  await db.drop();
});

describe('events', () => {
  it('lists the log newest first, with actor, payload and deliveries', async () => {
    const all = nodes(await events({ first: 10 }));
    expect(all.map((e) => e.id)).toEqual([...written].reverse());
    const placed = all.find((e) => e.id === written[0])!;
    expect(placed).toMatchObject({
      type: 'order.placed',
      aggregateType: 'order',
      aggregateId: 'o-1',
      payload: { orderId: 'o-1', status: 'placed' },
      session: { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'c-1' },
    });
    expect(placed.cursor).toMatch(/^\d+:\d+$/);
    expect(placed.deliveries.map((d) => [d.triggerName, d.status]).sort()).toEqual([
      ['q-orders', 'delivered'],
      ['q-queued', 'pending'],
    ]);
    expect(all.find((e) => e.type === 'driver.moved')!.deliveries).toEqual([]);
  });

  it('pages by keyset: pages of two cover the log once, in order', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await events({ first: 2, ...(after ? { after } : {}) });
      seen.push(...nodes(page).map((e) => e.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen).toEqual([...written].reverse());
  });

  it('filters by types, aggregate and time', async () => {
    expect(nodes(await events({ filter: { types: ['order.paid'] } })).map((e) => e.id)).toEqual([written[3], written[2]]);
    expect(nodes(await events({ filter: { types: ['order.placed', 'driver.moved'] } })).map((e) => e.id)).toEqual([written[4], written[1], written[0]]);
    expect(nodes(await events({ filter: { aggregateType: 'order', aggregateId: 'o-2' } })).map((e) => e.id)).toEqual([written[3], written[1]]);
    expect(nodes(await events({ filter: { from: between } })).map((e) => e.id)).toEqual([written[4], written[3]]);
    expect(nodes(await events({ filter: { to: between, aggregateId: 'o-1' } })).map((e) => e.id)).toEqual([written[2], written[0]]);
  });

  it('reads one event by id (null when unknown) and refuses a malformed cursor', async () => {
    const one = ok(await gqlAdmin<{ event: EventView }>(`query($id: ID!) { event(id: $id) { ${EVENT_FIELDS} } }`, { id: written[2] })).event;
    expect(one).toMatchObject({ id: written[2], type: 'order.paid' });
    expect(one.deliveries.map((d) => d.triggerName).sort()).toEqual(['q-hook', 'q-orders']);
    expect(ok(await gqlAdmin<{ event: null }>('query($id: ID!) { event(id: $id) { id } }', { id: randomUUID() })).event).toBeNull();
    expect(refused(await gqlAdmin('{ events(after: "garbage") { edges { cursor } } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refused(await gqlAdmin('{ event(id: "not-a-uuid") { id } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('deliveries', () => {
  it('shows the dead-letter queue with each attempt’s HTTP status, duration and truncated response', async () => {
    const dead = nodes(await deliveries({ status: 'dead' }));
    expect(dead.map((d) => d.event.id).sort()).toEqual([written[2]!, written[3]!].sort());
    for (const d of dead) {
      expect(d).toMatchObject({ triggerName: 'q-hook', status: 'dead', source: 'event', attemptCount: 2, maxAttempts: 2, lastHttpStatus: 500, lastError: 'HTTP 500' });
      expect(d.attempts.map((a) => [a.attempt, a.outcome, a.httpStatus, a.error])).toEqual([
        [1, 'retry', 500, 'HTTP 500'],
        [2, 'dead', 500, 'HTTP 500'],
      ]);
      for (const a of d.attempts) {
        expect(a.responseBody!.startsWith('boom xxx')).toBe(true);
        expect(a.responseBody!.length).toBeLessThanOrEqual(2049);
        expect(a.durationMs).toBeGreaterThanOrEqual(0);
        expect(a.dispatcherId).toBe(dispatcher.id);
        expect(Date.parse(a.startedAt)).toBeGreaterThan(0);
      }
    }
    expect(receiver.forTrigger('q-hook')).toHaveLength(4);
  });

  it('filters by trigger, status, event and time, newest first', async () => {
    // Newest first by created_at; the first three events share one transaction, hence one created_at.
    const orders = nodes(await deliveries({ trigger: 'q-orders' })).map((d) => d.event.id);
    expect(orders[0]).toBe(written[3]);
    expect(orders.slice(1).sort()).toEqual([written[0]!, written[1]!, written[2]!].sort());
    expect(nodes(await deliveries({ trigger: 'q-queued', status: 'pending' })).map((d) => d.event.id).sort()).toEqual([written[0]!, written[1]!].sort());
    expect(nodes(await deliveries({ trigger: 'q-queued', status: 'delivered' }))).toEqual([]);
    expect(nodes(await deliveries({ eventId: written[2] })).map((d) => d.triggerName).sort()).toEqual(['q-hook', 'q-orders']);
    expect(nodes(await deliveries({ from: between })).map((d) => [d.triggerName, d.event.id]).sort()).toEqual(
      [
        ['q-hook', written[3]!],
        ['q-orders', written[3]!],
      ].sort(),
    );
    expect(refused(await gqlAdmin('{ deliveries(filter: { eventId: "nope" }) { edges { cursor } } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('pages by keyset without skipping or repeating', async () => {
    const all = nodes(await deliveries({}, 50)).map((d) => d.id);
    expect(all).toHaveLength(8);
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await deliveries({}, 3, after);
      seen.push(...nodes(page).map((d) => d.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen).toEqual(all);
    expect(refused(await gqlAdmin('{ deliveries(after: "eHl6") { edges { cursor } } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('reads one delivery’s attempt log, and NOT_FOUND for an unknown delivery', async () => {
    const [dead] = nodes(await deliveries({ status: 'dead' }, 1));
    const log = ok(
      await gqlAdmin<{ deliveryAttempts: Array<{ attempt: number; outcome: string; httpStatus: number }> }>(
        'query($id: ID!) { deliveryAttempts(deliveryId: $id) { attempt outcome httpStatus } }',
        { id: dead!.id },
      ),
    ).deliveryAttempts;
    expect(log).toEqual([
      { attempt: 1, outcome: 'retry', httpStatus: 500 },
      { attempt: 2, outcome: 'dead', httpStatus: 500 },
    ]);
    expect(ok(await gqlAdmin<{ delivery: { id: string } }>('query($id: ID!) { delivery(id: $id) { id } }', { id: dead!.id })).delivery.id).toBe(dead!.id);
    const missing = refused(await gqlAdmin('query($id: ID!) { deliveryAttempts(deliveryId: $id) { attempt } }', { id: randomUUID() }));
    expect(missing.code).toBe('NOT_FOUND');
  });
});

describe('event triggers', () => {
  it('shows each trigger’s definition in brief, its state and its queue', async () => {
    const all = ok(await gqlAdmin<{ eventTriggers: TriggerView[] }>(`{ eventTriggers { ${TRIGGER_FIELDS} } }`)).eventTriggers;
    expect(all.map((t) => t.name)).toEqual(['q-hook', 'q-orders', 'q-queued', 'q-secret']);
    const by = Object.fromEntries(all.map((t) => [t.name, t]));
    expect(by['q-queued']).toMatchObject({ enabled: true, paused: true, kind: 'event', eventTypes: ['order.placed'], pending: 2, running: 0, dead: 0 });
    expect(by['q-hook']).toMatchObject({ paused: false, pending: 0, dead: 2, targetKind: 'webhook', target: `webhook ${receiver.url}/hook`, retry: { numRetries: 1 } });
    expect(by['q-orders']).toMatchObject({ pending: 0, dead: 0, targetKind: 'inProcess', target: 'in-process handler record', manualEnabled: false, table: null });
  });

  it('never shows a secret: URL credentials and query, header values', async () => {
    const res = await gqlAdmin<{ eventTrigger: TriggerView }>(`{ eventTrigger(name: "q-secret") { ${TRIGGER_FIELDS} } }`);
    const t = ok(res).eventTrigger;
    expect(t.target).toBe('webhook https://hooks.example.com/in?…');
    expect(t.headerNames).toEqual(['X-Api-Key', 'X-From-Env']);
    const text = JSON.stringify(res);
    for (const secret of ['hunter2', 'abc123', 'key-value-123', 'user:']) expect(text).not.toContain(secret);
    expect(ok(await gqlAdmin<{ eventTrigger: null }>('{ eventTrigger(name: "no-such") { name } }')).eventTrigger).toBeNull();
  });
});
