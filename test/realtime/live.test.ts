/**
 * The live-subscription entry point on its own, with no app: a tiny `notes`
 * table made here with raw SQL, events written with withEventTransaction,
 * two fields built with `liveSubscription` on a schema of their own (a note,
 * and a board's feed of notes), run by graphql-js against the real hub and
 * the real database. Initial state and `afterVersion`, updates in version
 * order, `admit` skipping and ending, the newest state per row, the buffer
 * bound ending a feed with SLOW_CONSUMER, App topics, ending on close; and
 * nothing of the food-delivery app is loaded for any of it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SchemaBuilder from '@pothos/core';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { parse, subscribe, type ExecutionResult } from 'graphql';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  aggregateTopic,
  forbidden,
  liveSubscription,
  notFound,
  withEventTransaction,
  type Context,
  type LiveRows,
  type Viewer,
} from '../../src/engine/index.js';
import { createRealtime, type Realtime } from '../../src/engine/realtime/realtime.js';
import { shareRuleOf } from '../../src/engine/server/sharedSubscriptions.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';

interface Note {
  id: string;
  board: string;
  owner: string;
  version: number;
  body: string;
}

const BOUND = 3;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let db: TestDatabase;
let realtime: Realtime;
const open: Array<AsyncGenerator<ExecutionResult>> = [];

const notes: LiveRows<Note> = {
  name: 'note',
  keyOf: (event) => event.aggregateId,
  async loadMany(ids, tx) {
    // The engine asks only for keys an event named: never an empty list.
    const rows = await tx.execute<Note>(
      sql`select id, board, owner, version, body from live_notes where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
    );
    return new Map(rows.map((row) => [row.id, row]));
  },
  versionOf: (note) => note.version,
};

const boardTopic = (board: string) => `board:${board}`;

interface NoteArgs {
  id: string;
  afterVersion?: number | null;
}

// A schema of its own: nothing here is registered on the engine's builder or any app's.
// (Pothos's plugins declare their options globally: scope-auth's is required even where the plugin is not used.)
const builder = new SchemaBuilder<{ Context: Context; DefaultFieldNullability: false }>({
  defaultFieldNullability: false,
  scopeAuth: { authScopes: () => ({}) },
});
const NoteRef = builder.objectRef<Note>('Note').implement({
  fields: (t) => ({ id: t.exposeID('id'), owner: t.exposeString('owner'), version: t.exposeInt('version') }),
});
// GraphQL wants a query root; the test needs none.
builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
builder.subscriptionType({
  fields: (t) => ({
    note: t.field({
      type: NoteRef,
      args: { id: t.arg.string({ required: true }), afterVersion: t.arg.int() },
      ...liveSubscription({
        kind: 'note',
        shape: 'row',
        rows: notes,
        topic: ({ id }: NoteArgs) => aggregateTopic('note', id),
        async initial({ id }: NoteArgs, ctx) {
          const row = await notes.loadMany([id], ctx.database.db);
          return row.get(id) ?? Promise.reject(notFound('Note', id));
        },
        afterVersion: ({ afterVersion }: NoteArgs) => afterVersion,
        admit: (note, viewer) => (note.owner === viewer.sub ? 'send' : forbidden(`Note ${note.id} is not yours`)),
      }),
    }),
    board: t.field({
      type: NoteRef,
      args: { id: t.arg.string({ required: true }) },
      ...liveSubscription({
        kind: 'board',
        shape: 'feed',
        rows: notes,
        topic: ({ id }: { id: string }) => boardTopic(id),
        admit: (note, viewer) => (note.owner === viewer.sub ? 'send' : 'skip'),
      }),
    }),
  }),
});
const schema = builder.toSchema();

function contextFor(sub: string, service: Realtime = realtime): Context {
  const viewer: Viewer = { sub, role: 'customer' };
  const events = { session: null, traceContext: null, eventIds: [] };
  return { viewer, database: db, log: testLog(), requestId: 'live-test', events, realtime: service };
}

async function live(query: string, variables: Record<string, unknown>, sub: string, service?: Realtime) {
  const started = await subscribe({ schema, document: parse(query), variableValues: variables, contextValue: contextFor(sub, service) });
  if (!(Symbol.asyncIterator in started)) return { refused: started };
  open.push(started);
  return { stream: started };
}

/** Reads `stream` in the background, as a transport would. */
function collect(stream: AsyncGenerator<ExecutionResult>) {
  const results: ExecutionResult[] = [];
  let done = false;
  void (async () => {
    for await (const result of stream) results.push(result);
    done = true;
  })();
  return {
    results,
    versions: () => results.map((r) => (Object.values(r.data ?? {})[0] as Note | undefined)?.version),
    until: (check: (r: ExecutionResult[]) => boolean, what: string) => waitFor(() => check(results), what),
    completed: () => waitFor(() => done, 'the subscription to complete'),
  };
}

async function write(note: Partial<Note> & { id: string }, board = note.board ?? 'b1'): Promise<number> {
  return withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [] }, async ({ tx, emit }) => {
    const [row] = await tx.execute<{ version: number }>(sql`
      insert into live_notes (id, board, owner, version, body)
      values (${note.id}, ${board}, ${note.owner ?? 'ann'}, 1, ${note.body ?? ''})
      on conflict (id) do update set
        owner = coalesce(${note.owner ?? null}, live_notes.owner),
        body = coalesce(${note.body ?? null}, live_notes.body),
        version = live_notes.version + 1
      returning version`);
    await emit({ type: 'note.changed', aggregateType: 'note', aggregateId: note.id, payload: { board, version: row!.version } });
    return row!.version;
  });
}

const code = (result: ExecutionResult | undefined) => result?.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  db = await freshDatabase();
  await db.sql`
    create table live_notes (id text primary key, board text not null, owner text not null, version int not null, body text not null)`;
  realtime = createRealtime(db, testLog(), {
    subscriberBuffer: BOUND,
    // The board topic from the payload, as an app's topicsOf would; one event type makes it throw.
    topicsOf: (event) => {
      if (event.type === 'note.broken') throw new Error('a broken topicsOf');
      return event.aggregateType === 'note' && typeof event.payload.board === 'string' ? [boardTopic(event.payload.board)] : [];
    },
  });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.return(undefined)));
  await waitFor(() => realtime.stats().subscriptions === 0 && realtime.hub.stats().listeners === 0, 'every subscription gone');
});
afterAll(async () => {
  await realtime?.close();
  await db?.drop();
});

describe('liveSubscription: one row', () => {
  it('sends the current state at once, then every change in version order', async () => {
    await write({ id: 'n1', owner: 'ann' });
    const { stream } = await live('subscription { note(id: "n1") { id version } }', {}, 'ann');
    const feed = collect(stream!);
    await feed.until((r) => r.length === 1, 'the initial state');
    expect(feed.results[0]).toEqual({ data: { note: { id: 'n1', version: 1 } } });
    for (let i = 0; i < 5; i++) await write({ id: 'n1', body: `edit ${i}` });
    await feed.until(() => feed.versions().at(-1) === 6, 'version 6');
    const versions = feed.versions() as number[];
    // Live state may skip a state when two changes land in one hub tick; never out of order, never twice.
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).toBe(1);
    expect(feed.results.some((r) => r.errors)).toBe(false);
  });

  it('sends the current state only if newer than afterVersion', async () => {
    const current = await write({ id: 'n2', owner: 'ann' });
    const query = 'subscription($v: Int) { note(id: "n2", afterVersion: $v) { version } }';
    const upToDate = collect((await live(query, { v: current }, 'ann')).stream!);
    const behind = collect((await live(query, { v: current - 1 }, 'ann')).stream!);
    await behind.until((r) => r.length === 1, 'the state the client lacks');
    expect(behind.versions()).toEqual([current]);
    expect(upToDate.results).toEqual([]);
    const next = await write({ id: 'n2', body: 'changed' });
    await upToDate.until((r) => r.length === 1, 'the change');
    expect(upToDate.versions()).toEqual([next]);
  });

  it('keeps only the newest state for a client that does not read', async () => {
    await write({ id: 'n3', owner: 'ann' });
    const { stream: idle } = await live('subscription { note(id: "n3") { version } }', {}, 'ann');
    expect((await idle!.next()).value).toEqual({ data: { note: { version: 1 } } });
    // A second subscriber that reads: the feed hands each state to both at once, so once it has the last one, so has the idle one.
    const probe = collect((await live('subscription { note(id: "n3") { version } }', {}, 'ann')).stream!);
    let last = 0;
    for (let i = 0; i < 10; i++) last = await write({ id: 'n3', body: `edit ${i}` });
    await probe.until(() => probe.versions().at(-1) === last, 'the probe at the last version');
    expect(realtime.stats().buffered).toBe(1);
    expect((await idle!.next()).value).toEqual({ data: { note: { version: last } } });
    expect(realtime.stats().buffered).toBe(0);
  });

  it('refuses a subscription whose initial read throws or is not admitted, and keeps nothing of it', async () => {
    await write({ id: 'n4', owner: 'bob' });
    expect(code((await live('subscription { note(id: "missing") { version } }', {}, 'ann')).refused)).toBe('NOT_FOUND');
    const { refused } = await live('subscription { note(id: "n4") { version } }', {}, 'ann');
    expect(code(refused)).toBe('FORBIDDEN');
    expect(realtime.stats().subscriptions).toBe(0);
    expect(realtime.hub.stats().listeners).toBe(0);
  });

  it('ends with the error admit() returns when a change takes the row out of reach', async () => {
    await write({ id: 'n5', owner: 'ann' });
    const feed = collect((await live('subscription { note(id: "n5") { version } }', {}, 'ann')).stream!);
    await feed.until((r) => r.length === 1, 'the initial state');
    await write({ id: 'n5', owner: 'bob' });
    await feed.completed();
    expect(feed.results).toHaveLength(2);
    expect(code(feed.results[1])).toBe('FORBIDDEN');
    expect(feed.results[1]?.data ?? null).toBeNull();
  });

  it('still gets an event whose App topics could not be computed', async () => {
    await write({ id: 'n6', owner: 'ann' });
    const feed = collect((await live('subscription { note(id: "n6") { version } }', {}, 'ann')).stream!);
    await feed.until((r) => r.length === 1, 'the initial state');
    await withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [] }, async ({ tx, emit }) => {
      await tx.execute(sql`update live_notes set version = version + 1 where id = 'n6'`);
      await emit({ type: 'note.broken', aggregateType: 'note', aggregateId: 'n6', payload: { board: 'b1' } });
    });
    await feed.until((r) => r.length === 2, 'the change');
    expect(feed.versions()).toEqual([1, 2]);
  });
});

describe('liveSubscription: a feed', () => {
  it('carries changes from the moment of subscribing, skipping rows admit() does not send', async () => {
    const feed = collect((await live('subscription { board(id: "b2") { id owner version } }', {}, 'ann')).stream!);
    await waitFor(() => realtime.hub.stats().listeners === 1, 'the feed on the hub');
    await write({ id: 'f1', owner: 'ann' }, 'b2');
    await write({ id: 'f2', owner: 'bob' }, 'b2');
    await write({ id: 'f3', owner: 'ann' }, 'b3');
    await write({ id: 'f1', body: 'again' }, 'b2');
    await feed.until(() => feed.versions().at(-1) === 2, "f1's second change");
    // f2 (not the viewer's) was skipped, f3 is on another board; f1 may have been coalesced, never reordered.
    const rows = feed.results.map((r) => r.data?.board as Note);
    expect(new Set(rows.map((row) => `${row.id} ${row.owner}`))).toEqual(new Set(['f1 ann']));
    expect(feed.versions()).toEqual(feed.versions().length === 2 ? [1, 2] : [2]);
  });

  it(`ends with SLOW_CONSUMER when more than ${BOUND} rows are pending (changes to one row only replace it)`, async () => {
    const { stream } = await live('subscription { board(id: "b4") { id version } }', {}, 'ann');
    await waitFor(() => realtime.hub.stats().listeners === 1, 'the feed on the hub');
    for (let i = 0; i < 5; i++) await write({ id: 's1', owner: 'ann' }, 'b4');
    await waitFor(() => realtime.stats().buffered === 1, 'one row pending');
    for (const id of ['s2', 's3']) await write({ id, owner: 'ann' }, 'b4');
    await waitFor(() => realtime.stats().buffered === BOUND, `${BOUND} rows pending`);
    await write({ id: 's4', owner: 'ann' }, 'b4');
    // Cut off before the client reads anything: what was pending is dropped, the error remains.
    await waitFor(() => realtime.stats().subscriptions === 0, 'the feed cut off');
    const results: ExecutionResult[] = [];
    for await (const result of stream!) results.push(result);
    expect(results).toHaveLength(1);
    expect(code(results[0])).toBe('SLOW_CONSUMER');
    expect(realtime.hub.stats().listeners).toBe(0);
  });
});

describe('liveSubscription: the field', () => {
  it('declares how identical WebSocket subscriptions share: the newest state for a row, changes for a feed', () => {
    expect(shareRuleOf(schema, parse('subscription { note(id: "n1") { id } }'))).toEqual({ mode: 'latest', field: 'note' });
    expect(shareRuleOf(schema, parse('subscription { board(id: "b1") { id } }'))).toEqual({ mode: 'changes', field: 'board' });
  });

  it('ends every open subscription when the realtime service closes (drain)', async () => {
    const own = createRealtime(db, testLog(), { subscriberBuffer: BOUND });
    try {
      await write({ id: 'd1', owner: 'ann' });
      const row = collect((await live('subscription { note(id: "d1") { version } }', {}, 'ann', own)).stream!);
      const board = collect((await live('subscription { board(id: "b1") { version } }', {}, 'ann', own)).stream!);
      await row.until((r) => r.length === 1, 'the initial state');
      expect(own.stats().subscriptions).toBe(2);
      await own.close();
      await row.completed();
      await board.completed();
      expect(own.stats().subscriptions).toBe(0);
      expect(own.hub.stats().listeners).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('is built and run without loading any module of the food-delivery app', async () => {
    const options = await extractDepcruiseOptions(path.join(ROOT, '.dependency-cruiser.cjs'));
    const result = await cruise([path.relative(ROOT, fileURLToPath(import.meta.url))], {
      ...options,
      baseDir: ROOT,
      tsConfig: { fileName: path.join(ROOT, 'tsconfig.json') },
    });
    const modules = (result.output as ICruiseResult).modules.map((m) => m.source);
    expect(modules).toContain('src/engine/realtime/live.ts');
    expect(modules.filter((m) => m.startsWith('src/apps/'))).toEqual([]);
  }, 60_000);
});
