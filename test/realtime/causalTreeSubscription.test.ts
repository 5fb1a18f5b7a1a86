/**
 * The `causalTree` subscription (issue 12), over real graphql-ws and SSE, fed
 * by a real dispatcher whose webhook "handlers" the test holds at gates, so
 * the tree is seen growing: the root's delivery, then the child event its
 * handler wrote back, then the child's delivery, then settled, exactly once,
 * and the subscription completes. Subscribers of any number of trees share
 * one read per hub tick (the state-reads counter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { pauseTrigger, resumeTrigger } from '../../src/engine/events/admin/pause.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { TREE_READS_KIND } from '../../src/engine/realtime/causalTrees.js';
import { stateReads } from '../../src/engine/realtime/metrics.js';
import { HEADER } from '../../src/kit/contract.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';
import { sseSubscribe, wsSession, type Feed, type SseSubscription, type WsSession } from '../support/subscriptions.js';

let db: TestDatabase;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;
let api: TestApi;
const sessions: WsSession[] = [];
const closers: Array<() => void> = [];

/** Requests held until the test opens their gate, by `<path>:<event id>`. */
const gates = new Map<string, { open: () => void; opened: Promise<void> }>();
function gate(key: string) {
  let g = gates.get(key);
  if (!g) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    g = { open, opened };
    gates.set(key, g);
  }
  return g;
}
const arrived = new Set<string>();

const webhook = (name: string, types: string[]): TriggerDefinition => ({
  name,
  match: { kind: 'event', types },
  target: { kind: 'webhook', url: `${receiver.url}/${name}` },
  retry: { numRetries: 2, intervalSec: 0.05, maxIntervalSec: 1, timeoutSec: 30 },
});

beforeAll(async () => {
  db = await freshDatabase();
  receiver = await startReceiver(async (req) => {
    const key = `${req.path}:${req.json.id}`;
    arrived.add(key);
    await gate(key).opened;
    if (req.path === '/cs-validate') {
      const cause = { event: req.json.id, delivery: String(req.headers[HEADER.delivery]) };
      await withEventTransaction(db.db, { session: { 'x-hasura-role': 'service', 'x-hasura-user-id': 'validator' }, traceContext: null, eventIds: [], cause }, ({ emit }) =>
        emit({ type: 'cs.validated', aggregateType: 'cs', aggregateId: 'x', payload: { secret: 'child' } }),
      );
    }
    return { status: 200 };
  });
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    triggers: [webhook('cs-validate', ['cs.placed']), webhook('cs-notify', ['cs.validated']), webhook('cs-held', ['cs.held'])],
  });
  api = await startTestApi(db);
});

afterAll(async () => {
  for (const g of gates.values()) g.open();
  for (const close of closers) close();
  await Promise.all(sessions.map((s) => s.dispose()));
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await api?.close();
  await receiver?.close();
  await db?.drop();
});

const SUBSCRIPTION = `subscription($id: ID!) { causalTree(eventId: $id) {
  rootId settled failed pending
  events { id type payload causedByDelivery depth }
  deliveries { id eventId trigger state settled attemptCount paused attempts { outcome httpStatus error } }
} }`;

interface Tree {
  rootId: string;
  settled: boolean;
  failed: boolean;
  pending: number;
  events: Array<{ id: string; type: string; payload: unknown; causedByDelivery: string | null; depth: number }>;
  deliveries: Array<{ id: string; eventId: string; trigger: string; state: string; settled: boolean; attemptCount: number; paused: boolean }>;
}
type TreeFeed = Feed<{ causalTree: Tree }>;

async function root(type: string, owner: string): Promise<string> {
  const [id] = await emitEvents(db, [{ type, aggregateType: 'cs', aggregateId: owner, payload: { secret: 'root' } }], { session: { 'x-hasura-role': 'customer', 'x-hasura-user-id': owner } });
  return id!;
}

async function overWs(token: string, id: string): Promise<TreeFeed> {
  const session = wsSession(api.url, token);
  sessions.push(session);
  const feed = session.subscribe<{ causalTree: Tree }>(SUBSCRIPTION, { id });
  closers.push(() => feed.unsubscribe());
  return feed;
}

async function overSse(token: string, id: string): Promise<SseSubscription<{ causalTree: Tree }>> {
  const feed = await sseSubscribe<{ causalTree: Tree }>(api.url, token, SUBSCRIPTION, { id });
  closers.push(() => feed.close());
  return feed;
}

const trees = (feed: TreeFeed) => feed.data.map((d) => d.causalTree);
const latest = (feed: TreeFeed) => trees(feed).at(-1);

async function treeReads(): Promise<number> {
  return (await stateReads.get()).values.find((v) => v.labels.kind === TREE_READS_KIND)?.value ?? 0;
}

/** Runs the growing order: the root's handler is let go, then the child's; checks the feed at each step. */
async function growAndSettle(feed: TreeFeed, id: string): Promise<void> {
  await feed.until((f) => trees(f).length >= 1, 10_000, 'the first tree');
  expect(latest(feed)).toMatchObject({ rootId: id, settled: false, pending: 1 });
  expect(latest(feed)!.events).toHaveLength(1);
  await waitFor('the root delivery to reach its handler', () => arrived.has(`/cs-validate:${id}`));
  gate(`/cs-validate:${id}`).open();
  // The child event and its own delivery appear, still pending.
  await feed.until((f) => latest(f)?.events.length === 2, 10_000, 'the child event');
  const grown = latest(feed)!;
  const validate = grown.deliveries.find((d) => d.trigger === 'cs-validate')!;
  expect(grown.events[1]).toMatchObject({ type: 'cs.validated', causedByDelivery: validate.id, depth: 1 });
  await waitFor('the child delivery to reach its handler', () => arrived.has(`/cs-notify:${grown.events[1]!.id}`));
  gate(`/cs-notify:${grown.events[1]!.id}`).open();
  await feed.untilCompleted(10_000);
  expect(feed.failure).toBeUndefined();
  const all = trees(feed);
  // Settled arrives exactly once, last; before it, nothing was settled and the tree only grew.
  expect(all.filter((t) => t.settled)).toHaveLength(1);
  expect(all.at(-1)).toMatchObject({ settled: true, failed: false, pending: 0 });
  expect(all.at(-1)!.deliveries.map((d) => [d.trigger, d.state, d.attemptCount]).sort()).toEqual([
    ['cs-notify', 'delivered', 1],
    ['cs-validate', 'delivered', 1],
  ]);
  for (let n = 1; n < all.length; n++) expect(all[n]!.events.length).toBeGreaterThanOrEqual(all[n - 1]!.events.length);
}

describe('the causalTree subscription', () => {
  it('streams a growing tree over graphql-ws until it settles, then completes (admin: whole)', async () => {
    const id = await root('cs.placed', 'c1');
    const feed = await overWs(await api.token('admin', 'ops'), id);
    await growAndSettle(feed, id);
    expect(latest(feed)!.events[0]!.payload).toEqual({ secret: 'root' });
  });

  it('streams the same over SSE to the customer who caused it, without payloads', async () => {
    const id = await root('cs.placed', 'c2');
    const feed = await overSse(await api.token('customer', 'c2'), id);
    expect(feed.status).toBe(200);
    await growAndSettle(feed, id);
    expect(latest(feed)!.events.map((e) => e.payload)).toEqual([null, null]);
  });

  it('sends an already settled tree once and completes', async () => {
    const id = await root('cs.placed', 'c3');
    await waitFor('the handler call', () => arrived.has(`/cs-validate:${id}`));
    gate(`/cs-validate:${id}`).open();
    await waitFor('the child handler call', async () => {
      const [child] = await db.sql<{ id: string }[]>`select id from threefactor.events where caused_by_event = ${id}`;
      if (child && arrived.has(`/cs-notify:${child.id}`)) gate(`/cs-notify:${child.id}`).open();
      const [open] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from threefactor.deliveries where (event_id = ${id} or event_id = ${child?.id ?? id}) and status <> 'delivered'`;
      return !!child && open!.n === 0;
    });
    const feed = await overWs(await api.token('customer', 'c3'), id);
    await feed.untilCompleted(10_000);
    expect(trees(feed)).toHaveLength(1);
    expect(trees(feed)[0]).toMatchObject({ settled: true, pending: 0 });
  });

  it("refuses another customer's tree with NOT_FOUND, as a missing one, over both transports", async () => {
    const id = await root('cs.held', 'c4');
    const other = await api.token('customer', 'c5');
    for (const feed of [await overWs(other, id), await overSse(other, id), await overWs(other, '00000000-0000-4000-8000-000000000000')]) {
      await feed.untilCompleted(10_000);
      expect(feed.data).toEqual([]);
      expect(feed.results.at(-1)?.errors?.[0]?.extensions?.code ?? (feed as { body?: { errors?: Array<{ extensions?: { code?: string } }> } }).body?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('costs one read per hub tick for every subscriber of every touched tree', async () => {
    const a = await root('cs.held', 'c6');
    const b = await root('cs.held', 'c7');
    await waitFor('both deliveries to reach their handler', () => arrived.has(`/cs-held:${a}`) && arrived.has(`/cs-held:${b}`));
    // Three subscribers of two trees, different viewers (so no shared execution): admin and owner on a, owner on b.
    const feeds = [await overWs(await api.token('admin', 'ops'), a), await overSse(await api.token('customer', 'c6'), a), await overWs(await api.token('customer', 'c7'), b)];
    for (const feed of feeds) await feed.until((f) => trees(f).length >= 1, 10_000, 'the first tree');
    await new Promise((r) => setTimeout(r, 100));
    const before = await treeReads();
    // One change, one engine event, one hub tick: both trees hold a delivery of the paused trigger.
    await pauseTrigger(db, 'cs-held');
    try {
      for (const feed of feeds) await feed.until((f) => latest(f)?.deliveries[0]?.paused === true, 10_000, 'the paused tree');
      expect(await treeReads()).toBe(before + 1);
      for (const feed of feeds) expect(latest(feed)).toMatchObject({ settled: false, pending: 1, deliveries: [{ state: 'paused' }] });
    } finally {
      await resumeTrigger(db, 'cs-held');
      gate(`/cs-held:${a}`).open();
      gate(`/cs-held:${b}`).open();
    }
    for (const feed of feeds) await feed.untilCompleted(10_000);
    for (const feed of feeds) expect(latest(feed)).toMatchObject({ settled: true, deliveries: [{ state: 'delivered' }] });
    // Watched trees are forgotten once settled.
    expect(api.api.realtime.trees.stats()).toEqual({ roots: 0, members: 0 });
  });

  it('engine events reach the events stream only for an admin who asks (filter.engineEvents)', async () => {
    const STREAM = 'subscription($f: EventFilter) { events(filter: $f) { type aggregateId } }';
    const paused = { types: ['threefactor.trigger.paused'] };
    const service = await api.token('service', 'svc');
    const admin = await api.token('admin', 'ops');
    const refused = wsSession(api.url, service);
    sessions.push(refused);
    const forService = refused.subscribe(STREAM, { f: { ...paused, engineEvents: true } });
    await forService.untilCompleted(10_000);
    expect(forService.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const adminWs = wsSession(api.url, admin);
    sessions.push(adminWs);
    const asked = adminWs.subscribe<{ events: { type: string; aggregateId: string } }>(STREAM, { f: { ...paused, engineEvents: true } });
    const notAsked = adminWs.subscribe<{ events: { type: string } }>(STREAM, { f: paused });
    const serviceWs = wsSession(api.url, service);
    sessions.push(serviceWs);
    const serviceAll = serviceWs.subscribe<{ events: { type: string } }>(STREAM, {});
    closers.push(() => asked.unsubscribe(), () => notAsked.unsubscribe(), () => serviceAll.unsubscribe());
    // Subscribed once the hub has them (a stream without `after` starts at the hub's position).
    await new Promise((r) => setTimeout(r, 300));
    await pauseTrigger(db, 'cs-notify');
    await resumeTrigger(db, 'cs-notify');
    const marker = await root('cs.marker', 'c9');
    await asked.until((f) => f.data.length >= 1, 10_000, 'the pause event');
    await serviceAll.until((f) => f.data.some((d) => d.events.type === 'cs.marker'), 10_000, 'the marker event');
    expect(asked.data.map((d) => d.events)).toEqual([{ type: 'threefactor.trigger.paused', aggregateId: 'cs-notify' }]);
    expect(notAsked.data).toEqual([]);
    expect(serviceAll.data.map((d) => d.events.type)).toEqual(['cs.marker']);
    expect(marker).toBeTruthy();
  });
});
