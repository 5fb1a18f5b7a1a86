/**
 * The admin writes about delivery state, over real HTTP, with the real
 * dispatcher delivering to an in-process handler: redeliver (one, many, a
 * whole dead-letter queue), replay by type, time and log position, manual
 * invocation, pause and resume, and their refusals.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { DELIVERY_FIELDS, recordedTrigger, recorder, startRecordingDispatcher, TRIGGER_FIELDS, type DeliveryView, type TriggerView, type Connection } from '../support/admin.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';
import { ok, refused } from '../support/orders.js';
import { waitFor } from '../support/receiver.js';

let db: TestDatabase;
let api: TestApi;
let admin: string;
let dispatcher: Dispatcher;
const rec = recorder();

const triggers: TriggerDefinition[] = [
  recordedTrigger('adm-ok', ['adm.*']),
  recordedTrigger('adm-flaky', ['flaky.*']),
  recordedTrigger('adm-paused', ['pause.*']),
  recordedTrigger('adm-witness', ['pause.*']),
  {
    name: 'adm-manual',
    match: { kind: 'table', schema: 'public', table: 'drivers', enableManual: true },
    target: { kind: 'inProcess', handler: 'record' },
  },
  {
    name: 'adm-nomanual',
    match: { kind: 'table', schema: 'public', table: 'restaurants', delete: { columns: '*' } },
    target: { kind: 'inProcess', handler: 'record' },
  },
];

const gqlAdmin = <T>(query: string, variables?: Record<string, unknown>) => api.gql<T>(query, variables, admin);

async function deliveriesOf(trigger: string, status?: string): Promise<DeliveryView[]> {
  const res = await gqlAdmin<{ deliveries: Connection<DeliveryView> }>(
    `query($filter: DeliveryFilter) { deliveries(first: 40, filter: $filter) { edges { node { ${DELIVERY_FIELDS} } } } }`,
    { filter: { trigger, ...(status ? { status } : {}) } },
  );
  return ok(res).deliveries.edges.map((e) => e.node);
}

async function triggerView(name: string): Promise<TriggerView> {
  return ok(await gqlAdmin<{ eventTrigger: TriggerView }>(`query($name: String!) { eventTrigger(name: $name) { ${TRIGGER_FIELDS} } }`, { name })).eventTrigger;
}

const settled = async (trigger: string) => {
  const t = await triggerView(trigger);
  return t.pending === 0 && t.running === 0;
};

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  admin = await api.token('admin', 'ops-1');
  dispatcher = await startRecordingDispatcher(db, rec, triggers);
});
afterAll(async () => {
  await dispatcher.stop({ deadlineMs: 2_000 });
  await api.close();
  await db.drop();
});

describe('redeliver', () => {
  let dead: DeliveryView[];

  beforeAll(async () => {
    rec.failing.add('adm-flaky');
    await emitEvents(db, [1, 2, 3].map((n) => ({ type: 'flaky.x', aggregateType: 'thing', aggregateId: `f${n}`, payload: { n } })));
    await waitFor('three dead letters', async () => (await deliveriesOf('adm-flaky', 'dead')).length === 3);
    dead = await deliveriesOf('adm-flaky', 'dead');
  });

  it('brings one dead letter back: it is delivered, with its earlier attempt kept in the log', async () => {
    expect(dead.every((d) => d.attemptCount === 1 && d.attempts.length === 1 && d.attempts[0]!.outcome === 'dead')).toBe(true);
    expect(dead[0]!.attempts[0]!.error).toBe('handler threw: handler for adm-flaky refused');
    rec.failing.delete('adm-flaky');
    const target = dead[0]!;
    const res = ok(
      await gqlAdmin<{ redeliverDeliveries: { count: number; skippedIds: string[]; deliveries: Array<{ id: string; status: string }> } }>(
        'mutation($ids: [ID!]!) { redeliverDeliveries(ids: $ids) { count skippedIds deliveries { id status } } }',
        { ids: [target.id] },
      ),
    ).redeliverDeliveries;
    expect(res).toMatchObject({ count: 1, skippedIds: [], deliveries: [{ id: target.id }] });
    // Read back right after the call: a dispatcher may already have claimed or even delivered it.
    expect(['pending', 'running', 'delivered']).toContain(res.deliveries[0]!.status);
    await waitFor('the redelivered letter delivered', async () => (await deliveriesOf('adm-flaky', 'delivered')).length === 1);
    const [done] = await deliveriesOf('adm-flaky', 'delivered');
    expect(done).toMatchObject({ id: target.id, attemptCount: 2, maxAttempts: 2 });
    expect(done!.attempts.map((a) => a.outcome)).toEqual(['dead', 'delivered']);
    expect(rec.idsOf('adm-flaky')).toEqual([target.event.id]);
    // The two others are still dead letters.
    expect((await deliveriesOf('adm-flaky', 'dead')).map((d) => d.id).sort()).toEqual([dead[1]!.id, dead[2]!.id].sort());
    expect((await triggerView('adm-flaky')).dead).toBe(2);
  });

  it('redelivers a trigger’s whole dead-letter queue', async () => {
    const res = ok(
      await gqlAdmin<{ redeliverDead: { count: number; trigger: { name: string; dead: number } } }>(
        'mutation { redeliverDead(trigger: "adm-flaky") { count trigger { name dead } } }',
      ),
    ).redeliverDead;
    expect(res).toEqual({ count: 2, trigger: { name: 'adm-flaky', dead: 0 } });
    await waitFor('all delivered', async () => (await deliveriesOf('adm-flaky', 'delivered')).length === 3);
    expect(rec.idsOf('adm-flaky').sort()).toEqual(dead.map((d) => d.event.id).sort());
    // Nothing left to redeliver.
    expect(ok(await gqlAdmin<{ redeliverDead: { count: number } }>('mutation { redeliverDead(trigger: "adm-flaky") { count } }')).redeliverDead.count).toBe(0);
  });

  it('re-sends many delivered deliveries at once, and names the ids it skipped', async () => {
    const delivered = await deliveriesOf('adm-flaky', 'delivered');
    const unknown = randomUUID();
    const before = rec.idsOf('adm-flaky').length;
    const res = ok(
      await gqlAdmin<{ redeliverDeliveries: { count: number; skippedIds: string[] } }>(
        'mutation($ids: [ID!]!) { redeliverDeliveries(ids: $ids) { count skippedIds } }',
        { ids: [...delivered.map((d) => d.id), unknown] },
      ),
    ).redeliverDeliveries;
    expect(res).toEqual({ count: 3, skippedIds: [unknown] });
    await waitFor('three more receipts', () => rec.idsOf('adm-flaky').length === before + 3);
    await waitFor('settled', () => settled('adm-flaky'));
    expect(rec.idsOf('adm-flaky').slice(before).sort()).toEqual(dead.map((d) => d.event.id).sort());
    expect((await deliveriesOf('adm-flaky', 'delivered')).every((d) => d.attempts.at(-1)!.outcome === 'delivered')).toBe(true);
  });

  it('refuses malformed or too many ids', async () => {
    expect(refused(await gqlAdmin('mutation { redeliverDeliveries(ids: ["nope"]) { count } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refused(await gqlAdmin('mutation { redeliverDeliveries(ids: []) { count } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
    const many = Array.from({ length: 1001 }, () => randomUUID());
    expect(refused(await gqlAdmin('mutation($ids: [ID!]!) { redeliverDeliveries(ids: $ids) { count } }', { ids: many }))).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });
});

describe('replay', () => {
  /** Event ids in log order: batch A (before `between`) then batch B. */
  let batchA: string[];
  let batchB: string[];
  let between: string;
  const types = ['adm.a', 'adm.b', 'adm.a', 'other.c'];

  beforeAll(async () => {
    batchA = await emitEvents(db, types.map((type, i) => ({ type, aggregateType: 'thing', aggregateId: `a${i}`, payload: { i } })));
    const [now] = await db.sql<{ at: string }[]>`select to_json(now()) #>> '{}' as at`;
    between = now!.at;
    batchB = await emitEvents(db, types.map((type, i) => ({ type, aggregateType: 'thing', aggregateId: `b${i}`, payload: { i } })));
    // Live routing first: adm-ok matches adm.* only (3 of 4 per batch).
    await waitFor('live deliveries', () => rec.idsOf('adm-ok').length === 6);
    await waitFor('settled', () => settled('adm-ok'));
  });

  const replay = async (filter: Record<string, unknown> | null, limit?: number) => {
    const before = rec.idsOf('adm-ok').length;
    const res = ok(
      await gqlAdmin<{ replayEvents: { count: number; complete: boolean; lastCursor: string | null; trigger: { pending: number } } }>(
        'mutation($filter: ReplayFilter, $limit: Int) { replayEvents(trigger: "adm-ok", filter: $filter, limit: $limit) { count complete lastCursor trigger { pending } } }',
        { filter, limit },
      ),
    ).replayEvents;
    await waitFor(`${res.count} replayed deliveries`, () => rec.idsOf('adm-ok').length === before + res.count);
    await waitFor('settled', () => settled('adm-ok'));
    return { ...res, received: rec.idsOf('adm-ok').slice(before) };
  };

  it('by type: the trigger receives exactly the matching events again', async () => {
    const res = await replay({ types: ['adm.b'] });
    expect(res).toMatchObject({ count: 2, complete: true });
    expect(res.received.sort()).toEqual([batchA[1]!, batchB[1]!].sort());
    const replayed = (await deliveriesOf('adm-ok')).filter((d) => d.source === 'replay');
    expect(replayed.map((d) => d.event.id).sort()).toEqual([batchA[1]!, batchB[1]!].sort());
  });

  it('by time range: only events created in [from, to), and never one the trigger does not match', async () => {
    const res = await replay({ from: between });
    expect(res.count).toBe(3);
    expect(res.received.sort()).toEqual([batchB[0]!, batchB[1]!, batchB[2]!].sort());
    const early = await replay({ to: between, types: ['adm.a'] });
    expect(early.received.sort()).toEqual([batchA[0]!, batchA[2]!].sort());
  });

  it('by log position, paged with limit: the cursor of the last page continues where it stopped', async () => {
    const positions = ok(
      await gqlAdmin<{ events: Connection<{ id: string; cursor: string }> }>(
        '{ events(first: 100, filter: { aggregateType: "thing" }) { edges { cursor node { id cursor } } } }',
      ),
    ).events.edges;
    const cursorOf = (id: string) => positions.find((e) => e.node.id === id)!.cursor;
    expect(positions.every((e) => e.cursor === e.node.cursor)).toBe(true);
    // Everything after batch A's last event, page by page (oldest first: the first page is B's first two).
    const first = await replay({ afterCursor: cursorOf(batchA[3]!) }, 2);
    expect(first).toMatchObject({ count: 2, complete: false });
    expect(first.received.sort()).toEqual([batchB[0]!, batchB[1]!].sort());
    expect(first.lastCursor).toBe(cursorOf(batchB[1]!));
    const rest = await replay({ afterCursor: first.lastCursor }, 2);
    expect(rest).toMatchObject({ count: 1, complete: true });
    expect(rest.received).toEqual([batchB[2]!]);
    // Between two positions, exclusive.
    const inside = await replay({ afterCursor: cursorOf(batchA[0]!), beforeCursor: cursorOf(batchB[0]!) });
    expect(inside.received.sort()).toEqual([batchA[1]!, batchA[2]!].sort());
  });

  it('refuses an unknown trigger (NOT_FOUND) and a malformed cursor (BAD_USER_INPUT)', async () => {
    expect(refused(await gqlAdmin('mutation { replayEvents(trigger: "no-such") { count } }'))).toMatchObject({ code: 'NOT_FOUND' });
    const bad = refused(await gqlAdmin('mutation { replayEvents(trigger: "adm-ok", filter: { afterCursor: "12-x" }) { count } }'));
    expect(bad.code).toBe('BAD_USER_INPUT');
    expect(bad.message).toMatch(/afterCursor/);
    expect(refused(await gqlAdmin('mutation { replayEvents(trigger: "adm-ok", limit: 0) { count } }'))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('manual invocation', () => {
  it('sends a row as op MANUAL through the event log, with the admin’s session', async () => {
    const row = { id: 'drv-manual-1', name: 'Manual Max', available: true };
    const delivery = ok(
      await gqlAdmin<{ invokeTrigger: DeliveryView & { event: { id: string; type: string; session: Record<string, string>; payload: unknown } } }>(
        `mutation($row: JSONObject!) { invokeTrigger(trigger: "adm-manual", row: $row) { ${DELIVERY_FIELDS} event { id type session payload } } }`,
        { row },
      ),
    ).invokeTrigger;
    expect(delivery).toMatchObject({ triggerName: 'adm-manual', source: 'manual' });
    expect(delivery.event).toMatchObject({
      type: 'public.drivers.MANUAL',
      session: { 'x-hasura-role': 'admin', 'x-hasura-user-id': 'ops-1' },
      payload: { op: 'MANUAL', data: { old: null, new: row } },
    });
    await waitFor('the manual delivery', () => rec.of('adm-manual').length === 1);
    expect(rec.of('adm-manual')[0]).toMatchObject({
      id: delivery.event.id,
      table: { schema: 'public', name: 'drivers' },
      event: { op: 'MANUAL', data: { old: null, new: row }, session_variables: { 'x-hasura-role': 'admin', 'x-hasura-user-id': 'ops-1' } },
    });
  });

  it('is refused when the trigger does not enable it, and for an unknown trigger', async () => {
    // The engine's own events (outcome batches of earlier deliveries) may still be written meanwhile: not counted.
    const events = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events where not starts_with(type, 'threefactor.')`)[0]!.n;
    const before = await events();
    const q = 'mutation($t: String!) { invokeTrigger(trigger: $t, row: { id: "x" }) { id } }';
    const noManual = refused(await gqlAdmin(q, { t: 'adm-nomanual' }));
    expect(noManual).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(noManual.message).toMatch(/does not enable manual invocation/);
    expect(refused(await gqlAdmin(q, { t: 'adm-ok' }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refused(await gqlAdmin(q, { t: 'no-such' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await events()).toBe(before);
  });
});

describe('pause and resume', () => {
  it('while paused, deliveries queue and nothing is sent; on resume they flow', async () => {
    const paused = ok(await gqlAdmin<{ pauseTrigger: TriggerView }>(`mutation { pauseTrigger(name: "adm-paused") { ${TRIGGER_FIELDS} } }`)).pauseTrigger;
    expect(paused).toMatchObject({ name: 'adm-paused', paused: true, pending: 0 });
    const ids = await emitEvents(db, [1, 2].map((n) => ({ type: 'pause.x', aggregateType: 'thing', aggregateId: `p${n}`, payload: { n } })));
    // The unpaused witness gets them: the dispatcher ran and passed the paused trigger by.
    await waitFor('the witness', () => rec.idsOf('adm-witness').length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.of('adm-paused')).toHaveLength(0);
    expect(await triggerView('adm-paused')).toMatchObject({ paused: true, pending: 2, running: 0 });

    const resumed = ok(await gqlAdmin<{ resumeTrigger: TriggerView }>(`mutation { resumeTrigger(name: "adm-paused") { ${TRIGGER_FIELDS} } }`)).resumeTrigger;
    expect(resumed.paused).toBe(false);
    await waitFor('the queued deliveries', () => rec.idsOf('adm-paused').length === 2);
    expect(rec.idsOf('adm-paused').sort()).toEqual([...ids].sort());
    await waitFor('queue drained', () => settled('adm-paused'));
  });

  it('names an unknown trigger NOT_FOUND', async () => {
    expect(refused(await gqlAdmin('mutation { pauseTrigger(name: "no-such") { name } }'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(refused(await gqlAdmin('mutation { resumeTrigger(name: "no-such") { name } }'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(refused(await gqlAdmin('mutation { redeliverDead(trigger: "no-such") { count } }'))).toMatchObject({ code: 'NOT_FOUND' });
  });
});
