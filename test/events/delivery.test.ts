/**
 * Webhook delivery against a real HTTP receiver: Hasura body shape, Standard
 * Webhooks signatures, trace and trigger headers, in-process targets, and
 * handler faults (5xx, timeout, Retry-After, dead letters, refused connections).
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher, type DispatcherOptions } from '../../src/engine/dispatcher/dispatcher.js';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  receiver = await startReceiver();
});
afterEach(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  dispatcher = undefined;
  receiver.respond(() => ({ status: 200 }));
});
afterAll(async () => {
  await receiver.close();
  await db.drop();
});

function trigger(name: string, types: string[], extra: Partial<TriggerDefinition> = {}): TriggerDefinition {
  return { name, match: { kind: 'event', types }, target: { kind: 'webhook', url: `${receiver.url}/${name}` }, ...extra };
}

async function start(triggers: TriggerDefinition[], opts: Partial<DispatcherOptions> = {}): Promise<Dispatcher> {
  dispatcher = await startDispatcher({ database: db, log: testLog(), triggers, webhookSecret: TEST_WEBHOOK_SECRET, pollMs: 200, ...opts });
  return dispatcher;
}

async function delivery(eventId: string, triggerName: string) {
  const [row] = await db.sql<{ id: string; status: string; attempts: number; run_at: string; last_status: number | null; last_error: string | null }[]>`
    select id, status, attempts, run_at, last_status, last_error from threefactor.deliveries where event_id = ${eventId} and trigger_name = ${triggerName}`;
  return row!;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const r = await startReceiver();
  const port = Number(new URL(r.url).port);
  await r.close();
  return port;
}

async function attempts(deliveryId: string) {
  return db.sql<{ attempt: number; outcome: string; http_status: number | null; response_body: string | null; error: string | null; duration_ms: number; dispatcher_id: string }[]>`
    select attempt, outcome, http_status, response_body, error, duration_ms, dispatcher_id
    from threefactor.delivery_attempts where delivery_id = ${deliveryId} order by attempt`;
}

describe('webhook delivery', () => {
  it('POSTs a domain event in Hasura’s exact body shape, signed (Standard Webhooks) and traced', async () => {
    await start([trigger('shape', ['order.placed'])]);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const [eventId] = await emitEvents(db, [{ type: 'order.placed', aggregateType: 'order', aggregateId: 'o-1', payload: { orderId: 'o-1', status: 'placed', version: 1 } }], {
      session: { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'c-1' },
      traceContext: { traceparent },
    });
    await waitFor('the delivery', async () => (await delivery(eventId!, 'shape'))?.status === 'delivered');
    expect(receiver.forTrigger('shape')).toHaveLength(1);
    const req = receiver.forTrigger('shape')[0]!;
    const [event] = await db.sql<{ created_at: string }[]>`select to_json(created_at) #>> '{}' as created_at from threefactor.events where id = ${eventId!}`;

    const expected: HasuraEventPayload = {
      id: eventId!,
      created_at: event!.created_at,
      trigger: { name: 'shape' },
      table: { schema: 'public', name: 'order' },
      event: {
        op: 'INSERT',
        data: { old: null, new: { orderId: 'o-1', status: 'placed', version: 1, event_type: 'order.placed' } },
        session_variables: { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'c-1' },
        trace_context: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' },
      },
      delivery_info: { max_retries: 5, current_retry: 0 },
    };
    expect(req.json).toEqual(expected);
    expect(req.path).toBe('/shape');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(eventId);
    expect(req.headers['idempotency-key']).toBe(eventId);
    expect(req.headers['x-threefactor-trigger']).toBe('shape');
    // Same trace, new span (the delivery is a child of the mutation's span).
    expect(req.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(req.headers.traceparent).not.toContain('00f067aa0ba902b7');

    const verifier = new Webhook(TEST_WEBHOOK_SECRET);
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    expect(verifier.verify(req.body, headers)).toEqual(expected);
    const tampered = req.body.replace('"o-1"', '"o-2"');
    expect(tampered).not.toBe(req.body);
    expect(() => verifier.verify(tampered, headers)).toThrow(/signature/i);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 9).toString('base64')}`).verify(req.body, headers)).toThrow(/signature/i);

    const d = await delivery(eventId!, 'shape');
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, last_status: 200, last_error: null });
    const [a] = await attempts(d.id);
    expect(a).toMatchObject({ attempt: 1, outcome: 'delivered', http_status: 200, response_body: 'ok', error: null, dispatcher_id: dispatcher!.id });
  });

  it('matches exact types and prefixes, and sends the trigger’s headers (value and from env)', async () => {
    await start([trigger('prefix', ['pay.*', 'order.placed'], { headers: [{ name: 'X-Static', value: 's1' }, { name: 'X-From-Env', valueFromEnv: 'TEST_HEADER_VALUE' }] })], {
      env: { TEST_HEADER_VALUE: 'from-env' },
    });
    await emitEvents(db, [
      { type: 'pay.requested', aggregateType: 'payment', aggregateId: 'p1', payload: {} },
      { type: 'pay.done', aggregateType: 'payment', aggregateId: 'p1', payload: {} },
      { type: 'order.placed', aggregateType: 'order', aggregateId: 'o1', payload: {} },
      { type: 'order.paid', aggregateType: 'order', aggregateId: 'o1', payload: {} },
      { type: 'payment', aggregateType: 'payment', aggregateId: 'p1', payload: {} },
    ]);
    await waitFor('three deliveries', () => receiver.forTrigger('prefix').length === 3);
    const got = receiver.forTrigger('prefix');
    expect(got.map((r) => (r.json as unknown as HasuraEventPayload).event.data.new!.event_type).sort()).toEqual(['order.placed', 'pay.done', 'pay.requested']);
    expect(got[0]!.headers['x-static']).toBe('s1');
    expect(got[0]!.headers['x-from-env']).toBe('from-env');
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'prefix'`;
    expect(count!.n).toBe(3);
  });

  it('delivers to an in-process handler with the identical body', async () => {
    const seen: HasuraEventPayload[] = [];
    await start(
      [{ name: 'inproc', match: { kind: 'event', types: ['inproc.x'] }, target: { kind: 'inProcess', handler: 'record' } }],
      { inProcessHandlers: { record: async (p) => void seen.push(p) } },
    );
    const [id] = await emitEvents(db, [{ type: 'inproc.x', aggregateType: 'thing', aggregateId: 't1', payload: { a: 1 } }]);
    await waitFor('the in-process delivery', () => seen.length === 1);
    expect(seen[0]).toMatchObject({ id, trigger: { name: 'inproc' }, table: { schema: 'public', name: 'thing' }, event: { op: 'INSERT', data: { old: null, new: { a: 1, event_type: 'inproc.x' } } } });
    await waitFor('delivered status', async () => (await delivery(id!, 'inproc')).status === 'delivered');
  });
});

describe('handler faults', () => {
  it('retries a 500 and succeeds, logging both attempts with status, body and duration', async () => {
    receiver.respond((req) => (receiver.forTrigger('flaky').length === 1 && req.headers['x-threefactor-trigger'] === 'flaky' ? { status: 500, body: 'boom' } : { status: 204, body: '' }));
    await start([trigger('flaky', ['flaky.x'], { retry: { numRetries: 3, intervalSec: 0.1 } })]);
    const [id] = await emitEvents(db, [{ type: 'flaky.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('delivered after a retry', async () => (await delivery(id!, 'flaky')).status === 'delivered');
    const d = await delivery(id!, 'flaky');
    expect(d).toMatchObject({ attempts: 2, last_status: 204, last_error: null });
    const rows = await attempts(d.id);
    expect(rows.map((a) => [a.attempt, a.outcome, a.http_status, a.response_body, a.error])).toEqual([
      [1, 'retry', 500, 'boom', 'HTTP 500'],
      [2, 'delivered', 204, '', null],
    ]);
    expect(rows.every((a) => a.duration_ms >= 0)).toBe(true);
    const bodies = receiver.forTrigger('flaky').map((r) => (r.json as unknown as HasuraEventPayload).delivery_info);
    expect(bodies).toEqual([
      { max_retries: 3, current_retry: 0 },
      { max_retries: 3, current_retry: 1 },
    ]);
  });

  it('counts a timeout as a failure', async () => {
    receiver.respond(() => ({ status: 200, delayMs: 1_500 }));
    await start([trigger('slow', ['slow.x'], { retry: { numRetries: 0, timeoutSec: 0.3 } })]);
    const [id] = await emitEvents(db, [{ type: 'slow.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('dead after the timeout', async () => (await delivery(id!, 'slow')).status === 'dead');
    const d = await delivery(id!, 'slow');
    expect(d.last_error).toBe('timed out after 300 ms');
    const [a] = await attempts(d.id);
    expect(a).toMatchObject({ outcome: 'dead', http_status: null, error: 'timed out after 300 ms' });
    expect(a!.duration_ms).toBeGreaterThanOrEqual(250);
  });

  it('honours Retry-After in seconds: the next run is not before it', async () => {
    receiver.respond(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    await start([trigger('limited', ['limited.x'], { retry: { numRetries: 2, intervalSec: 1 } })]);
    const before = Date.now();
    const [id] = await emitEvents(db, [{ type: 'limited.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('the first attempt', async () => (await delivery(id!, 'limited')).attempts === 1);
    const d = await delivery(id!, 'limited');
    expect(d.status).toBe('pending');
    expect(new Date(d.run_at).getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(new Date(d.run_at).getTime()).toBeLessThanOrEqual(Date.now() + 121_000);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 90_000);
    receiver.respond(() => ({ status: 503, headers: { 'retry-after': at.toUTCString() } }));
    await start([trigger('limited-date', ['limited-date.x'], { retry: { numRetries: 2, intervalSec: 1 } })]);
    const [id] = await emitEvents(db, [{ type: 'limited-date.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('the first attempt', async () => (await delivery(id!, 'limited-date')).attempts === 1);
    const d = await delivery(id!, 'limited-date');
    expect(new Date(d.run_at).getTime()).toBeGreaterThanOrEqual(Math.floor(at.getTime() / 1000) * 1000 - 1_000);
  });

  it('dead-letters after the last attempt, with every attempt stored', async () => {
    receiver.respond(() => ({ status: 500, body: 'x'.repeat(10_000) }));
    await start([trigger('doomed', ['doomed.x'], { retry: { numRetries: 2, intervalSec: 0.05 } })]);
    const [id] = await emitEvents(db, [{ type: 'doomed.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('dead', async () => (await delivery(id!, 'doomed')).status === 'dead');
    const d = await delivery(id!, 'doomed');
    expect(d).toMatchObject({ attempts: 3, last_status: 500, last_error: 'HTTP 500' });
    const rows = await attempts(d.id);
    expect(rows.map((a) => a.outcome)).toEqual(['retry', 'retry', 'dead']);
    // The response body is stored truncated.
    expect(rows[0]!.response_body!.length).toBeLessThan(2_100);
    expect(receiver.forTrigger('doomed')).toHaveLength(3);
  });

  it('treats a connection error and an unset webhook env variable as failures', async () => {
    const port = await closedPort();
    await start([
      { name: 'refused', match: { kind: 'event', types: ['refused.x'] }, target: { kind: 'webhook', url: `http://127.0.0.1:${port}/` }, retry: { numRetries: 0 } },
      { name: 'unset', match: { kind: 'event', types: ['refused.x'] }, target: { kind: 'webhookFromEnv', env: 'NOT_SET_URL' }, retry: { numRetries: 0 } },
    ], { env: {} });
    const [id] = await emitEvents(db, [{ type: 'refused.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('both dead', async () => (await delivery(id!, 'refused')).status === 'dead' && (await delivery(id!, 'unset')).status === 'dead');
    expect((await delivery(id!, 'refused')).last_error).toMatch(/ECONNREFUSED/);
    expect((await delivery(id!, 'unset')).last_error).toBe('webhook URL variable NOT_SET_URL is not set');
  });
});
