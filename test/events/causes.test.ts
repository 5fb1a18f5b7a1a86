/**
 * "Every event knows its cause": a write-back passes back the delivery and
 * event it handles (x-threefactor-delivery, x-threefactor-event), and every
 * event it commits records them (caused_by_delivery, caused_by_event). Only
 * the service and admin roles may name a cause: a client's headers are
 * ignored; a malformed one from a service is a 400 naming the header, and
 * nothing is written. Writes with no delivery behind them (a client's
 * mutation, raw SQL on a captured table) have no cause, and a pooled
 * connection does not carry one over from an earlier transaction; a captured
 * write made inside a write-back's transaction is caused by it. Also: the
 * in-process dispatcher path gives a handler the same cause as a webhook.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { drivers } from '../../src/apps/food-delivery/db/schema.js';
import { handlerTriggers, inProcessHandlers } from '../../src/apps/food-delivery/handlers/triggers.js';
import { startDispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { createLogger } from '../../src/engine/log.js';
import { writeCause } from '../../src/engine/server/writeCause.js';
import { HEADER } from '../../src/kit/contract.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { ids, ok, Q, refused, writeState, type OrderView, type Tokens } from '../support/orders.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
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

interface Caused {
  type: string;
  caused_by_event: string | null;
  caused_by_delivery: string | null;
}

/** An order's events in log order, with their causes. */
async function causesOf(orderId: string): Promise<Caused[]> {
  return db.sql<Caused[]>`
    select type, caused_by_event, caused_by_delivery from threefactor.events
    where aggregate_type = 'order' and aggregate_id = ${orderId} order by xid, seq`;
}

async function place(token = tokens.alice, headers: Record<string, string> = {}): Promise<OrderView> {
  const input = { restaurantId: ids.napoli, deliveryAddress: '1 Cause St', items: [{ menuItemId: ids.margherita, quantity: 1 }] };
  return ok(await api.gql<{ placeOrder: OrderView }>(Q.place, { input }, token, headers)).placeOrder;
}

const causeHeaders = (delivery: string, event: string) => ({ [HEADER.delivery]: delivery, [HEADER.event]: event, [HEADER.trigger]: 'validate-order' });

describe('over HTTP', () => {
  it("a service's write-back records the delivery and event it names; the client's own event has none", async () => {
    const order = await place();
    const [placed] = await db.sql<{ id: string }[]>`select id from threefactor.events where aggregate_id = ${order.id}`;
    const delivery = randomUUID();
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service, causeHeaders(delivery, placed!.id)));
    expect(await causesOf(order.id)).toEqual([
      { type: 'order.placed', caused_by_event: null, caused_by_delivery: null },
      { type: 'order.validated', caused_by_event: placed!.id, caused_by_delivery: delivery },
    ]);
  });

  it('the rule by role: service and admin name a cause (as the log spells UUIDs), any other role is ignored', () => {
    const [delivery, event] = [randomUUID(), randomUUID()];
    const given = { delivery: delivery.toUpperCase(), event: event.toUpperCase() };
    expect(writeCause('service', given)).toEqual({ delivery, event });
    expect(writeCause('admin', given)).toEqual({ delivery, event });
    for (const role of ['customer', 'restaurant', 'driver']) expect(writeCause(role, { delivery: 'junk', event: 42 })).toBeNull();
    expect(writeCause('service', { delivery: null, event: '' })).toBeNull();
    expect(() => writeCause('service', { delivery, event: 42 })).toThrow('x-threefactor-event must be a UUID');
  });

  it("a client's token: the headers are ignored, valid or not", async () => {
    const valid = await place(tokens.alice, causeHeaders(randomUUID(), randomUUID()));
    const malformed = await place(tokens.alice, causeHeaders('not-a-uuid', 'nor-this'));
    for (const order of [valid, malformed]) {
      expect(await causesOf(order.id)).toEqual([{ type: 'order.placed', caused_by_event: null, caused_by_delivery: null }]);
    }
  });

  it.each([
    ['a malformed delivery', { [HEADER.delivery]: 'delivery-42', [HEADER.event]: randomUUID() }, /^x-threefactor-delivery must be a UUID$/],
    ['a malformed event', { [HEADER.delivery]: randomUUID(), [HEADER.event]: `${randomUUID()}x` }, /^x-threefactor-event must be a UUID$/],
    ['a delivery without its event', { [HEADER.delivery]: randomUUID() }, /^x-threefactor-event is required with x-threefactor-delivery/],
    ['an event without its delivery', { [HEADER.event]: randomUUID() }, /^x-threefactor-delivery is required with x-threefactor-event/],
  ])("a service's %s: 400 naming the header, nothing written", async (_what, headers, message) => {
    const order = await place();
    const before = await writeState(db);
    const res = await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service, headers);
    expect(res.status).toBe(400);
    const error = refused(res);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(message);
    expect(await writeState(db)).toEqual(before);
  });

  it('no cause headers from a service: no cause (a direct call)', async () => {
    const order = await place();
    ok(await api.gql(Q.validate, { orderId: order.id, valid: true }, tokens.service, { [HEADER.trigger]: 'validate-order' }));
    expect((await causesOf(order.id)).map((e) => [e.caused_by_event, e.caused_by_delivery])).toEqual([
      [null, null],
      [null, null],
    ]);
  });
});

describe('over graphql-ws', () => {
  it("reads the cause from the operation's extensions (or connection params), and refuses a malformed one on that operation alone", async () => {
    const ws = wsSession(api.url, tokens.service);
    sessions.push(ws);
    const order = await place();
    const [delivery, event] = [randomUUID(), randomUUID()];

    const bad = new Promise<unknown[]>((resolve) => {
      const results: unknown[] = [];
      ws.client.subscribe(
        { query: Q.validate, variables: { orderId: order.id, valid: true }, extensions: { [HEADER.delivery]: 'nope', [HEADER.event]: event } },
        { next: (r) => results.push(r), error: (e) => resolve([...results, e]), complete: () => resolve(results) },
      );
    });
    const [badResult] = (await bad) as Array<Array<{ message: string; extensions?: { code?: string } }>>;
    expect(JSON.stringify(badResult)).toContain('x-threefactor-delivery must be a UUID');
    expect((await causesOf(order.id)).map((e) => e.type)).toEqual(['order.placed']);

    const good = await new Promise<unknown[]>((resolve, reject) => {
      const results: unknown[] = [];
      ws.client.subscribe(
        { query: Q.validate, variables: { orderId: order.id, valid: true }, extensions: { [HEADER.delivery]: delivery, [HEADER.event]: event } },
        { next: (r) => results.push(r), error: reject, complete: () => resolve(results) },
      );
    });
    expect(good).toHaveLength(1);
    expect((await causesOf(order.id))[1]).toEqual({ type: 'order.validated', caused_by_event: event, caused_by_delivery: delivery });
  });
});

describe('captured table writes', () => {
  /** Captures every change of drivers; no dispatcher runs here, so its deliveries just wait. */
  const capture: TriggerDefinition = {
    name: 'driver_changes',
    match: { kind: 'table', schema: 'public', table: 'drivers', insert: { columns: '*' }, update: { columns: '*' }, delete: { columns: '*' } },
    target: { kind: 'webhook', url: 'http://127.0.0.1:1/unused' },
    retry: { numRetries: 0 },
  };
  const captured = (driverId: string) =>
    db.sql<Array<{ op: string; caused_by_event: string | null; caused_by_delivery: string | null }>>`
      select payload ->> 'op' as op, caused_by_event, caused_by_delivery from threefactor.events
      where aggregate_type = 'table:public.drivers' and aggregate_id = ${driverId} order by xid, seq`;

  it("by plain SQL: no cause, even on a connection whose earlier transaction had one; inside a write-back's transaction: that cause", async () => {
    await syncTriggers(db.sql, [capture]);
    const [row] = await db.sql<{ id: string }[]>`insert into drivers (name) values ('captured') returning id`;
    const driverId = row!.id;
    const [delivery, event] = [randomUUID(), randomUUID()];

    // One connection: a transaction with a cause, then plain statements after it.
    const conn = await db.sql.reserve();
    try {
      await conn`begin`;
      await conn`select set_config('threefactor.cause_event', ${event}, true), set_config('threefactor.cause_delivery', ${delivery}, true)`;
      await conn`update drivers set name = 'in the caused transaction' where id = ${driverId}`;
      await conn`commit`;
      await conn`update drivers set name = 'after it, same connection' where id = ${driverId}`;
    } finally {
      conn.release();
    }
    // The write path, as a write-back's mutation runs it.
    await withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [], cause: { event, delivery } }, async ({ tx }) => {
      await tx.update(drivers).set({ available: false }).where(eq(drivers.id, driverId));
    });
    await db.sql`delete from drivers where id = ${driverId}`;

    expect(await captured(driverId)).toEqual([
      { op: 'INSERT', caused_by_event: null, caused_by_delivery: null },
      { op: 'UPDATE', caused_by_event: event, caused_by_delivery: delivery },
      { op: 'UPDATE', caused_by_event: null, caused_by_delivery: null },
      { op: 'UPDATE', caused_by_event: event, caused_by_delivery: delivery },
      { op: 'DELETE', caused_by_event: null, caused_by_delivery: null },
    ]);
  });
});

describe('the in-process dispatcher path', () => {
  it("gives the handler the delivery and event, and its write-back's events record them", async () => {
    // Only this test runs a dispatcher: the events before it have no deliveries (no trigger was synced then).
    const dispatcher = await startDispatcher({
      database: db,
      log: testLog(),
      webhookSecret: TEST_WEBHOOK_SECRET,
      triggers: handlerTriggers('inProcess'),
      inProcessHandlers: inProcessHandlers({ apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service', 'handlers'), log: createLogger('silent') }),
      pollMs: 200,
    });
    try {
      const order = await place();
      await waitFor(async () => (await causesOf(order.id)).length === 2, 'the write-back of validate-order', 20_000);
      const [placed] = await db.sql<{ id: string }[]>`select id from threefactor.events where aggregate_id = ${order.id} and type = 'order.placed'`;
      const [delivery] = await db.sql<{ id: string }[]>`
        select id from threefactor.deliveries where event_id = ${placed!.id} and trigger_name = 'validate-order'`;
      expect(await causesOf(order.id)).toEqual([
        { type: 'order.placed', caused_by_event: null, caused_by_delivery: null },
        { type: 'order.validated', caused_by_event: placed!.id, caused_by_delivery: delivery!.id },
      ]);
    } finally {
      await dispatcher.stop({ deadlineMs: 2_000 });
    }
  });
});
