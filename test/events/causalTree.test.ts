/**
 * The causal tree (issue 12): the engine events that feed it, its SQL, and
 * the `causalTree` query, through a real dispatcher, a real webhook receiver
 * whose "handler" writes back the way the kit's write-back does (the cause
 * passed to withEventTransaction), and the real API over HTTP.
 *
 * One root event fans out to three triggers: one that writes a child event
 * (which has its own delivery: recursion), one that fails once then succeeds
 * (two attempts), one that dead-letters. Another root waits on a paused
 * trigger until it is resumed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/engine/db/client.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { pauseTrigger, resumeTrigger } from '../../src/engine/events/admin/pause.js';
import { redeliver } from '../../src/engine/events/admin/redeliver.js';
import { replay } from '../../src/engine/events/admin/replay.js';
import { ENGINE_EVENTS, type DeliveriesProgressedPayload } from '../../src/engine/events/engineEvents.js';
import { readCausalTrees } from '../../src/engine/events/sql/readCausalTrees.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { routingColumns, TriggerDefinitionError } from '../../src/engine/events/triggers/routing.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { HEADER } from '../../src/kit/contract.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;
let api: TestApi;
/** Claim statements the dispatcher's claim loop sent (its connection is wrapped to count them). */
let claims = 0;

const FAST = { intervalSec: 0.05, maxIntervalSec: 1, timeoutSec: 2 };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const OWNER = { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'c-owner' };

const webhook = (name: string, types: string[], retries = 3): TriggerDefinition => ({
  name,
  match: { kind: 'event', types },
  target: { kind: 'webhook', url: `${receiver.url}/${name}` },
  retry: { numRetries: retries, ...FAST },
});

/** What each trigger's endpoint does: ct-validate writes the child event back with its cause, as a handler's write-back would. */
async function answer(path: string, body: { id: string }, delivery: string, nth: number): Promise<{ status: number; body?: string }> {
  switch (path) {
    case '/ct-validate':
      await withEventTransaction(db.db, { session: { 'x-hasura-role': 'service', 'x-hasura-user-id': 'validator' }, traceContext: null, eventIds: [], cause: { event: body.id, delivery } }, ({ emit }) =>
        emit({ type: 'ct.validated', aggregateType: 'ct', aggregateId: 'x', payload: { secret: 'child-payload' } }),
      );
      return { status: 200 };
    case '/ct-flaky':
      return nth === 1 ? { status: 500, body: 'flaky secret body' } : { status: 200 };
    case '/ct-dead':
      return { status: 500, body: 'dead secret body' };
    default:
      return { status: 200 };
  }
}

/** A counting wrapper of postgres.js: every claim statement (the UPDATE that leases deliveries) is counted. */
function countingClaims(sql: Sql): Sql {
  return new Proxy(sql, {
    apply(target, self, args: unknown[]) {
      const strings = args[0];
      if (Array.isArray(strings) && strings.join('').includes("set status = 'running'")) claims++;
      return Reflect.apply(target, self, args);
    },
  });
}

beforeAll(async () => {
  db = await freshDatabase();
  const perPath = new Map<string, number>();
  receiver = await startReceiver(async (req) => {
    const key = `${req.path}:${req.json.id}`;
    const nth = (perPath.get(key) ?? 0) + 1;
    perPath.set(key, nth);
    return answer(req.path, req.json, String(req.headers[HEADER.delivery]), nth);
  });
  dispatcher = await startDispatcher({
    database: { sql: db.sql, direct: countingClaims(db.direct) },
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 60_000,
    triggers: [
      webhook('ct-validate', ['ct.placed']),
      webhook('ct-flaky', ['ct.placed']),
      webhook('ct-dead', ['ct.placed'], 0),
      webhook('ct-notify', ['ct.validated']),
      webhook('ct-held', ['ct.held']),
      webhook('ct-idle', ['ct.idle']),
    ],
  });
  api = await startTestApi(db);
});

afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await api?.close();
  await receiver?.close();
  await db?.drop();
});

const TREE = `query($id: ID!) { causalTree(eventId: $id) {
  rootId settled failed pending truncated
  events { id type payload session traceId cause causedByEvent causedByDelivery depth }
  deliveries { id eventId trigger state status settled attemptCount maxAttempts lastHttpStatus lastError paused pausedReason
    attempts { attempt outcome httpStatus durationMs applied responseBody error } }
} }`;

interface TreeResult {
  rootId: string;
  settled: boolean;
  failed: boolean;
  pending: number;
  truncated: boolean;
  events: Array<{ id: string; type: string; payload: unknown; session: unknown; traceId: string | null; cause: string; causedByEvent: string | null; causedByDelivery: string | null; depth: number }>;
  deliveries: Array<{
    id: string;
    eventId: string;
    trigger: string;
    state: string;
    status: string;
    settled: boolean;
    attemptCount: number;
    lastHttpStatus: number | null;
    lastError: string | null;
    paused: boolean;
    pausedReason: string | null;
    attempts: Array<{ attempt: number; outcome: string; httpStatus: number | null; durationMs: number; applied: boolean; responseBody: string | null; error: string | null }>;
  }>;
}

async function tree(id: string, token: string) {
  return api.gql<{ causalTree: TreeResult | null }>(TREE, { id }, token);
}

async function placeRoot(type = 'ct.placed'): Promise<string> {
  const [id] = await emitEvents(db, [{ type, aggregateType: 'ct', aggregateId: 'root', payload: { secret: 'root-payload' } }], { session: OWNER, traceContext: { traceparent: TRACEPARENT } });
  return id!;
}

async function settledTree(id: string): Promise<TreeResult> {
  const admin = await api.token('admin', 'ops');
  let last: TreeResult | null | undefined;
  await waitFor('the tree to settle', async () => {
    last = (await tree(id, admin)).data?.causalTree;
    return last?.settled === true && last.events.length === 2;
  });
  return last!;
}

describe('the causal tree', () => {
  let rootId: string;

  beforeAll(async () => {
    rootId = await placeRoot();
  });

  it('shows fan-out, a retry, a dead letter and a caused child with its own delivery, settled and failed', async () => {
    const t = await settledTree(rootId);
    expect(t).toMatchObject({ rootId, settled: true, failed: true, pending: 0, truncated: false });
    const [root, child] = t.events;
    expect(root).toMatchObject({ id: rootId, type: 'ct.placed', cause: 'api', depth: 0, causedByDelivery: null, traceId: '0af7651916cd43dd8448eb211c80319c', payload: { secret: 'root-payload' } });
    const byTrigger = Object.fromEntries(t.deliveries.map((d) => [d.trigger, d]));
    expect(Object.keys(byTrigger).sort()).toEqual(['ct-dead', 'ct-flaky', 'ct-notify', 'ct-validate']);
    expect(child).toMatchObject({ type: 'ct.validated', cause: 'delivery', depth: 1, causedByEvent: rootId, causedByDelivery: byTrigger['ct-validate']!.id });
    expect(byTrigger['ct-notify']!.eventId).toBe(child!.id);
    for (const name of ['ct-validate', 'ct-flaky', 'ct-dead']) expect(byTrigger[name]!.eventId).toBe(rootId);
    expect(byTrigger['ct-flaky']).toMatchObject({ state: 'delivered', attemptCount: 2 });
    expect(byTrigger['ct-flaky']!.attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'retry', 500],
      [2, 'delivered', 200],
    ]);
    expect(byTrigger['ct-flaky']!.attempts[0]!.responseBody).toBe('flaky secret body');
    expect(byTrigger['ct-dead']).toMatchObject({ state: 'dead', status: 'dead', settled: true, attemptCount: 1, lastHttpStatus: 500 });
    expect(byTrigger['ct-dead']!.attempts).toMatchObject([{ attempt: 1, outcome: 'dead', httpStatus: 500, applied: true }]);
    expect(byTrigger['ct-validate']!.attempts).toMatchObject([{ attempt: 1, outcome: 'delivered', httpStatus: 200 }]);
  });

  it('lets the customer who caused it see it, without payloads, sessions, bodies or errors', async () => {
    await settledTree(rootId);
    const mine = (await tree(rootId, await api.token('customer', 'c-owner'))).data!.causalTree!;
    expect(mine).toMatchObject({ settled: true, failed: true, pending: 0 });
    expect(mine.events.map((e) => [e.payload, e.session])).toEqual([
      [null, null],
      [null, null],
    ]);
    const dead = mine.deliveries.find((d) => d.trigger === 'ct-dead')!;
    expect(dead).toMatchObject({ state: 'dead', lastHttpStatus: 500, lastError: null });
    for (const d of mine.deliveries) for (const a of d.attempts) expect([a.responseBody, a.error]).toEqual([null, null]);
    // Outcome, status and duration stay.
    expect(mine.deliveries.find((d) => d.trigger === 'ct-flaky')!.attempts.map((a) => [a.outcome, a.httpStatus, typeof a.durationMs])).toEqual([
      ['retry', 500, 'number'],
      ['delivered', 200, 'number'],
    ]);
  });

  it("is NOT_FOUND for another customer's tree, exactly as for a missing one, and for the same id under another role", async () => {
    const other = await tree(rootId, await api.token('customer', 'c-other'));
    const missingId = randomUUID();
    const missing = await tree(missingId, await api.token('customer', 'c-other'));
    const code = (r: typeof other) => ({ data: r.data, code: r.errors?.[0]?.extensions?.code, message: r.errors?.[0]?.message.replace(/[0-9a-f-]{36}/, '<id>') });
    expect(code(other)).toEqual({ data: { causalTree: null }, code: 'NOT_FOUND', message: 'Causal tree of event <id> was not found' });
    expect(code(missing)).toEqual(code(other));
    // The owner's id under another role is not the owner.
    expect(code(await tree(rootId, await api.token('restaurant', 'c-owner')))).toEqual(code(other));
    expect(code(await tree(missingId, await api.token('admin', 'ops')))).toEqual(code(other));
    expect((await tree('not-a-uuid', await api.token('admin', 'ops'))).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('shows a paused trigger’s delivery as paused with the reason (not settled); resumed, it settles', async () => {
    await pauseTrigger(db, 'ct-held');
    try {
      const held = await placeRoot('ct.held');
      const admin = await api.token('admin', 'ops');
      const t = (await tree(held, admin)).data!.causalTree!;
      expect(t).toMatchObject({ settled: false, failed: false, pending: 1 });
      expect(t.deliveries).toMatchObject([{ trigger: 'ct-held', state: 'paused', status: 'pending', paused: true, pausedReason: 'manual', settled: false }]);
      await resumeTrigger(db, 'ct-held');
      await waitFor('the resumed tree to settle', async () => (await tree(held, admin)).data?.causalTree?.settled === true);
      expect((await tree(held, admin)).data!.causalTree!.deliveries).toMatchObject([{ state: 'delivered', paused: false, pausedReason: null }]);
    } finally {
      await resumeTrigger(db, 'ct-held');
    }
  });

  it('reads many roots in one statement, each capped, with the indexes for each step', async () => {
    const other = await placeRoot('ct.held');
    const trees = await readCausalTrees(db.sql, [rootId, other, randomUUID()]);
    expect([...trees.keys()].sort()).toEqual([rootId, other].sort());
    expect(trees.get(rootId)!.events).toHaveLength(2);
    // Plans on a tiny table may pick sequential scans; with them disabled, the plan must still find an index for every step.
    const plan = await db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      const rows = await tx.unsafe<Array<{ 'QUERY PLAN': string }>>(
        `explain with recursive tree as (
           select e.id, 0 as depth from threefactor.events e where e.id = $1
           union all
           select c.id, tree.depth + 1 from tree
           join threefactor.deliveries d on d.event_id = tree.id
           join threefactor.events c on c.caused_by_delivery = d.id
         )
         select (select count(*) from threefactor.delivery_attempts a where a.delivery_id = d.id) from tree join threefactor.deliveries d on d.event_id = tree.id`,
        [rootId],
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('events_pkey');
    expect(plan).toContain('deliveries_event_idx');
    expect(plan).toContain('events_caused_by_delivery_idx');
    expect(plan).toContain('delivery_attempts_delivery_idx');
  });

  it('caps a deep chain at 32 levels below the root, saying truncated', async () => {
    // A chain written straight into the log: each event caused by a delivery of the one before.
    await syncTriggers(db.sql, [webhook('ct-chain', ['ct.never'])], testLog());
    const [first] = await emitEvents(db, [{ type: 'ct.link', aggregateType: 'ct', aggregateId: '0', payload: {} }]);
    let parent = first!;
    for (let n = 1; n <= 40; n++) {
      const [d] = await db.sql<{ id: string }[]>`
        insert into threefactor.deliveries (event_id, trigger_name, status, max_attempts, event_xid, event_seq)
        select id, 'ct-chain', 'delivered', 1, xid, seq from threefactor.events where id = ${parent} returning id`;
      await withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [], cause: { event: parent, delivery: d!.id } }, async ({ emit }) => {
        parent = await emit({ type: 'ct.link', aggregateType: 'ct', aggregateId: String(n), payload: {} });
      });
    }
    const t = (await readCausalTrees(db.sql, [first!])).get(first!)!;
    expect(t.truncated).toBe(true);
    expect(t.events).toHaveLength(33);
    expect(Math.max(...t.events.map((e) => e.depth))).toBe(32);
    expect(t.events[0]).toMatchObject({ cause: 'none', traceId: null });
  });
});

describe('engine events', () => {
  it('the completer appends one per flushed batch, listing each applied outcome', async () => {
    const rootId = await placeRoot();
    await settledTree(rootId);
    const rows = await db.sql<{ aggregate_type: string; payload: DeliveriesProgressedPayload }[]>`
      select aggregate_type, payload from threefactor.events where type = ${ENGINE_EVENTS.deliveriesProgressed} order by xid, seq`;
    const outcomes = rows.flatMap((r) => r.payload.outcomes).filter((o) => o.eventId === rootId);
    expect(rows.every((r) => r.aggregate_type === 'threefactor.dispatcher' && r.payload.dispatcher === dispatcher!.id)).toBe(true);
    expect(outcomes.map((o) => [o.trigger, o.attempt, o.outcome, o.httpStatus]).sort()).toEqual(
      [
        ['ct-dead', 1, 'dead', 500],
        ['ct-flaky', 1, 'retry', 500],
        ['ct-flaky', 2, 'delivered', 200],
        ['ct-validate', 1, 'delivered', 200],
      ].sort(),
    );
    expect(outcomes.every((o) => typeof o.durationMs === 'number' && typeof o.deliveryId === 'string')).toBe(true);
    // Fewer events than outcomes overall: batches, never one per row (here at least the fan-out's first attempts may share one).
    expect(rows.length).toBeLessThanOrEqual(rows.flatMap((r) => r.payload.outcomes).length);
  });

  it('pause, resume, redeliver and replay each append one, naming what changed', async () => {
    const rootId = await placeRoot();
    await settledTree(rootId);
    const [dead] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where event_id = ${rootId} and trigger_name = 'ct-dead'`;
    const since = await db.sql<{ seq: string }[]>`select coalesce(max(seq), 0)::text as seq from threefactor.events`;
    await pauseTrigger(db, 'ct-idle');
    await pauseTrigger(db, 'ct-idle'); // already paused: nothing changed, nothing appended
    await resumeTrigger(db, 'ct-idle');
    expect(await redeliver(db, [dead!.id])).toEqual([dead!.id]);
    await replay(db, { trigger: 'ct-idle', types: ['ct.idle'] }); // nothing to replay: nothing appended
    const [idle] = await emitEvents(db, [{ type: 'ct.other', aggregateType: 'ct', aggregateId: 'o', payload: {} }]);
    await syncTriggers(db.sql, [webhook('ct-replayed', ['ct.other'])], testLog());
    await replay(db, { trigger: 'ct-replayed', types: ['ct.other'] });
    const rows = await db.sql<{ type: string; aggregate_id: string; payload: Record<string, unknown> }[]>`
      select type, aggregate_id, payload from threefactor.events
      where seq > ${since[0]!.seq}::bigint and type like 'threefactor.%' and type <> ${ENGINE_EVENTS.deliveriesProgressed}
      order by xid, seq`;
    const [replayed] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where event_id = ${idle!} and trigger_name = 'ct-replayed'`;
    expect(rows).toEqual([
      { type: ENGINE_EVENTS.triggerPaused, aggregate_id: 'ct-idle', payload: { trigger: 'ct-idle', reason: 'manual' } },
      { type: ENGINE_EVENTS.triggerResumed, aggregate_id: 'ct-idle', payload: { trigger: 'ct-idle', reason: null } },
      {
        type: ENGINE_EVENTS.deliveriesRedelivered,
        aggregate_id: 'ct-dead',
        payload: { deliveries: [{ deliveryId: dead!.id, eventId: rootId, trigger: 'ct-dead' }], count: 1, truncated: false },
      },
      {
        type: ENGINE_EVENTS.deliveriesReplayed,
        aggregate_id: 'ct-replayed',
        payload: { deliveries: [{ deliveryId: replayed!.id, eventId: idle!, trigger: 'ct-replayed' }], count: 1, truncated: false },
      },
    ]);
  });

  it('are never routed: no delivery for any of them, even to a trigger matching every event', async () => {
    await syncTriggers(db.sql, [webhook('ct-everything', ['*'])], testLog());
    try {
      await pauseTrigger(db, 'ct-idle');
      await resumeTrigger(db, 'ct-idle');
      const [routed] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from threefactor.deliveries d join threefactor.events e on e.id = d.event_id where e.type like 'threefactor.%'`;
      expect(routed!.n).toBe(0);
      // Replay uses the same matching.
      expect((await replay(db, { trigger: 'ct-everything', types: [ENGINE_EVENTS.triggerPaused] })).created).toBe(0);
    } finally {
      await db.sql`update threefactor.event_triggers set enabled = false where name = 'ct-everything'`;
    }
  });

  it('the admin event log leaves them out unless asked for (filter.engineEvents)', async () => {
    const admin = await api.token('admin', 'ops');
    const query = 'query($f: EventLogFilter) { events(first: 100, filter: $f) { edges { node { type } } } }';
    const types = async (f: Record<string, unknown>) =>
      ((await api.gql<{ events: { edges: Array<{ node: { type: string } }> } }>(query, { f }, admin)).data?.events.edges ?? []).map((e) => e.node.type);
    expect((await types({})).some((t) => t.startsWith('threefactor.'))).toBe(false);
    expect(await types({ types: [ENGINE_EVENTS.deliveriesProgressed] })).toEqual([]);
    const asked = await types({ types: [ENGINE_EVENTS.deliveriesProgressed], engineEvents: true });
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set([ENGINE_EVENTS.deliveriesProgressed]));
  });

  it('a trigger naming them is refused with a clear error', () => {
    for (const type of ['threefactor.deliveries.progressed', 'threefactor.*', 'threefactor*', 'threefactor.trigger.*']) {
      expect(() => routingColumns(webhook('ct-engine', [type])), type).toThrow(TriggerDefinitionError);
    }
    expect(() => routingColumns(webhook('ct-engine', ['threefactor.*']))).toThrow(/event trigger "ct-engine": type "threefactor\.\*" names the engine's own events/);
    // Not aimed at them: accepted (routing skips engine events whatever a trigger says).
    for (const type of ['*', 'three*', 'threefactory.done', 'order.*']) expect(() => routingColumns(webhook('ct-fine', [type])), type).not.toThrow();
  });

  it('wake no dispatcher: only an event that routes to a trigger costs a claim', async () => {
    // Triggers declared after the dispatcher started are not its to serve until its registry refreshes: left out.
    await waitFor('the dispatcher to be idle', async () => {
      const [busy] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status in ('pending', 'running') and trigger_name not in ('ct-everything', 'ct-replayed')`;
      return busy!.n === 0;
    });
    await new Promise((r) => setTimeout(r, 200));
    const before = claims;
    // Engine events (a pause, and its resume's own wake-up aside), and events no trigger wants.
    await pauseTrigger(db, 'ct-held');
    for (let n = 0; n < 10; n++) await emitEvents(db, [{ type: 'ct.nobody-listens', aggregateType: 'ct', aggregateId: String(n), payload: {} }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(claims - before).toBe(0);
    await resumeTrigger(db, 'ct-held'); // deliveries may be claimable again: this one wakes them, on purpose
    await new Promise((r) => setTimeout(r, 200));
    const afterResume = claims;
    expect(afterResume - before).toBeGreaterThanOrEqual(1);
    // An event routed to a trigger wakes the claim loop at once (the poll is a minute away).
    const [idle] = await emitEvents(db, [{ type: 'ct.idle', aggregateType: 'ct', aggregateId: 'i', payload: {} }]);
    await waitFor('the routed event to be delivered', async () => {
      const [d] = await db.sql<{ status: string }[]>`select status from threefactor.deliveries where event_id = ${idle!}`;
      return d?.status === 'delivered';
    });
    expect(claims).toBeGreaterThan(afterResume);
  });
});
