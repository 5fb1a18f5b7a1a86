/**
 * "A mutation says what it wrote": every mutation's result carries
 * extensions.threefactor = { events, cursor }, over HTTP, SSE and graphql-ws: the
 * ids of the events it committed, in log order, and the events stream's
 * cursor just after the last of them, from which the stream yields what came
 * next (the mutation's own events not included). A mutation that commits
 * nothing, or rolls back, reports no events and no cursor; a query reports
 * nothing at all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compareCursors, parseCursor } from '../../src/engine/events/cursor.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { ids, ok, Q, type Tokens } from '../support/orders.js';
import { sseSubscribe, wsSession, type WsSession } from '../support/subscriptions.js';
import { useTestApi } from '../support/useTestApi.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
useTestApi({ seed: true }, (env) => ({ db, api, tokens } = env));

const sessions: WsSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});
function session(token: string): WsSession {
  const s = wsSession(api.url, token);
  sessions.push(s);
  return s;
}

interface Reported {
  events: string[];
  cursor?: string;
}

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const input = (deliveryAddress = '1 Test Lane') => ({ input: { restaurantId: ids.napoli, deliveryAddress, items: [{ menuItemId: ids.margherita, quantity: 1 }] } });

/** A mutation's or query's answer, as far as these tests read it. */
interface Answer {
  data?: Record<string, { id: string } | null> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
  extensions?: { threefactor?: Reported };
}

/** A GraphQL request over HTTP, keeping the whole body (extensions included). */
async function post(body: unknown, token: string): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

const reportOf = (answer: Answer): Reported => {
  expect(answer.extensions?.threefactor, JSON.stringify(answer)).toBeDefined();
  return answer.extensions!.threefactor!;
};
const idOf = (answer: Answer, field: string): string => answer.data![field]!.id;

/** The log's (id, cursor) of these events, in log order. */
async function logged(eventIds: string[]): Promise<Array<{ id: string; cursor: string }>> {
  return db.sql<{ id: string; cursor: string }[]>`
    select id, xid::text || ':' || seq as cursor from threefactor.events where id = any(${eventIds}::uuid[]) order by xid, seq`;
}

describe('over HTTP', () => {
  it('reports the one event placeOrder committed, and its cursor', async () => {
    const { status, body } = await post({ query: PLACE, variables: input() }, tokens.alice);
    expect(status).toBe(200);
    const reported = reportOf(body);
    const log = await logged(reported.events);
    expect(log.map((e) => e.id)).toEqual(reported.events);
    expect(reported.events).toHaveLength(1);
    const [row] = await db.sql<{ type: string; aggregate_id: string }[]>`select type, aggregate_id from threefactor.events where id = ${reported.events[0]!}`;
    expect(row).toEqual({ type: 'order.placed', aggregate_id: idOf(body, 'placeOrder') });
    expect(reported.cursor).toBe(log[0]!.cursor);
  });

  it('reports every event of a multi-field mutation, in the order written, with the cursor of the last', async () => {
    const { body } = await post(
      {
        query: `mutation($a: PlaceOrderInput!, $b: PlaceOrderInput!) { a: placeOrder(input: $a) { id } b: placeOrder(input: $b) { id } }`,
        variables: { a: input('2 A St').input, b: input('3 B St').input },
      },
      tokens.alice,
    );
    const reported = reportOf(body);
    const log = await logged(reported.events);
    expect(reported.events).toHaveLength(2);
    expect(log.map((e) => e.id)).toEqual(reported.events);
    const aggregates = await db.sql<{ aggregate_id: string }[]>`
      select aggregate_id from threefactor.events where id = any(${reported.events}::uuid[]) order by xid, seq`;
    expect(aggregates.map((a) => a.aggregate_id)).toEqual([idOf(body, 'a'), idOf(body, 'b')]);
    expect(reported.cursor).toBe(log[1]!.cursor);
  });

  it('gives each operation of a batch its own events', async () => {
    const { body } = await post([{ query: PLACE, variables: input('4 C St') }, { query: PLACE, variables: input('5 D St') }], tokens.alice);
    const results = body as unknown as Answer[];
    expect(results).toHaveLength(2);
    for (const result of results) {
      const reported = reportOf(result);
      expect(reported.events).toHaveLength(1);
      const [row] = await db.sql<{ aggregate_id: string }[]>`select aggregate_id from threefactor.events where id = ${reported.events[0]!}`;
      expect(row!.aggregate_id).toBe(idOf(result, 'placeOrder'));
    }
  });

  it('a refused mutation reports no events and no cursor; a query has no threefactor extension', async () => {
    const placed = ok(await api.gql<{ placeOrder: { id: string } }>(PLACE, input('6 E St'), tokens.alice)).placeOrder;
    // Not validated yet: the restaurant may not approve it.
    const { body } = await post({ query: Q.approve, variables: { orderId: placed.id } }, tokens.napoli);
    expect(body.errors?.[0]?.extensions?.code).toBe('ILLEGAL_TRANSITION');
    expect(reportOf(body)).toEqual({ events: [] });

    const query = await post({ query: Q.order, variables: { id: placed.id } }, tokens.alice);
    expect(idOf(query.body, 'order')).toBe(placed.id);
    expect(query.body.extensions?.threefactor).toBeUndefined();
  });

  it("an event written outside withEventTransaction (an admin's manual invocation) is reported with its position, read back", async () => {
    await syncTriggers(db.sql, [
      {
        name: 'manual-drivers',
        match: { kind: 'table', schema: 'public', table: 'drivers', insert: { columns: '*' }, enableManual: true },
        target: { kind: 'webhook', url: 'http://127.0.0.1:1/unused' },
        retry: { numRetries: 0 },
      },
    ]);
    const { body } = await post({ query: `mutation { invokeTrigger(trigger: "manual-drivers", row: { id: "d-1" }) { id } }` }, tokens.admin);
    const reported = reportOf(body);
    expect(reported.events).toHaveLength(1);
    expect(await logged(reported.events)).toEqual([{ id: reported.events[0], cursor: reported.cursor }]);
  });

  it('a mutation whose transaction fails at commit, after its event was inserted, reports none', async () => {
    // Deferred to commit: the emit returns an id, then the commit fails and rolls it back.
    await db.sql.unsafe(`
      create function fail_at_commit() returns trigger language plpgsql as $$
      begin raise exception 'refused at commit'; end $$;
      create constraint trigger fail_at_commit after insert on threefactor.events
        deferrable initially deferred for each row
        when (new.payload ->> 'deliveryAddress' = '13 Doom St') execute function fail_at_commit();`);
    try {
      const before = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events`;
      const { body } = await post({ query: PLACE, variables: input('13 Doom St') }, tokens.alice);
      expect(body.errors).toHaveLength(1);
      expect(body.data?.placeOrder ?? null).toBeNull();
      expect(reportOf(body)).toEqual({ events: [] });
      expect(await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events`).toEqual(before);
    } finally {
      await db.sql.unsafe('drop trigger fail_at_commit on threefactor.events; drop function fail_at_commit();');
    }
  });
});

const EVENTS = `subscription($after: String) { events(after: $after) { id type cursor } }`;
type StreamData = { events: { id: string; type: string; cursor: string } };

describe('the cursor resumes the events stream right after the mutation', () => {
  it('the next event the stream yields is the next one written after it, first from history, then live', async () => {
    const mine = await post({ query: PLACE, variables: input('7 F St') }, tokens.alice);
    const cursor = reportOf(mine.body).cursor!;
    const next = ok(await api.gql<{ placeOrder: { id: string } }>(PLACE, input('8 G St'), tokens.bob)).placeOrder;

    const feed = session(tokens.service).subscribe<StreamData>(EVENTS, { after: cursor });
    try {
      await feed.untilCount(1);
      const [row] = await db.sql<{ id: string }[]>`select id from threefactor.events where aggregate_id = ${next.id}`;
      expect(feed.data[0]!.events.id).toBe(row!.id);
      expect(compareCursors(parseCursor(feed.data[0]!.events.cursor)!, parseCursor(cursor)!)).toBe(1);

      await waitFor(() => api.api.realtime.hub.stats().listeners >= 1, 'the stream live');
      const live = await post({ query: PLACE, variables: input('9 H St') }, tokens.bob);
      await feed.untilCount(2);
      expect(feed.data[1]!.events.id).toBe(reportOf(live.body).events[0]);
      expect(feed.data.map((d) => d.events.id)).not.toContain(reportOf(mine.body).events[0]);
    } finally {
      feed.unsubscribe();
    }
  });
});

describe('over SSE', () => {
  it('a mutation sent with Accept: text/event-stream carries it too', async () => {
    const stream = await sseSubscribe<{ placeOrder: { id: string } }>(api.url, tokens.alice, PLACE, input('11 J St'));
    try {
      await stream.untilCompleted();
      const result = stream.results[0] as { data: { placeOrder: { id: string } }; extensions?: { threefactor?: Reported } };
      const reported = result.extensions!.threefactor!;
      expect(reported.events).toHaveLength(1);
      expect((await logged(reported.events))[0]!.cursor).toBe(reported.cursor);
    } finally {
      stream.close();
    }
  });
});

describe('over graphql-ws', () => {
  it('a mutation on a socket carries the same extension', async () => {
    const ws = session(tokens.alice);
    const feed = ws.subscribe<{ placeOrder: { id: string } }>(PLACE, input('10 I St'));
    await feed.untilCompleted();
    const result = feed.results[0] as { data: { placeOrder: { id: string } }; extensions?: { threefactor?: Reported } };
    const reported = result.extensions!.threefactor!;
    const log = await logged(reported.events);
    expect(reported.events).toHaveLength(1);
    expect(log.map((e) => e.id)).toEqual(reported.events);
    expect(reported.cursor).toBe(log[0]!.cursor);
    const [row] = await db.sql<{ aggregate_id: string }[]>`select aggregate_id from threefactor.events where id = ${reported.events[0]!}`;
    expect(row!.aggregate_id).toBe(result.data.placeOrder.id);

    const refusedFeed = ws.subscribe(Q.approve, { orderId: result.data.placeOrder.id });
    await refusedFeed.untilCompleted();
    const refused = refusedFeed.results[0] as { errors?: Array<{ extensions?: { code?: string } }>; extensions?: { threefactor?: Reported } };
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.extensions?.threefactor).toEqual({ events: [] });
  });
});
