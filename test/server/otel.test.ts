/**
 * The chain in OpenTelemetry: the API, a dispatcher and the handler functions
 * as separate processes export their spans over OTLP/HTTP to a receiver the
 * test runs. One order arrives as one trace with the right parent for every
 * span, the ids the processes propagated being the ids exported; a failed
 * attempt is an error; SIGTERM flushes what is queued. Without
 * OTEL_EXPORTER_OTLP_ENDPOINT nothing is ever sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/engine/db/embedded.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { KIND, startCollector, STATUS_ERROR, type Collector, type ReceivedSpan } from '../support/otlpCollector.js';
import { eventsOf, ids, seeded } from '../support/orders.js';
import { commandEnv, runCommand, startAllInOne, stopProcess, type CommandProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { newWebhookSecret } from '../support/webhooks.js';

const PLACE = `mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const ADDRESS = '221B Baker Street';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

let db: TestDatabase;
let collector: Collector;
const running: CommandProcess[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
});
afterAll(async () => {
  await db?.drop();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => stopProcess(p, 'SIGKILL')));
  await collector?.close();
});

function run(args: string[], env: Record<string, string | undefined>): CommandProcess {
  const proc = runCommand(args, env);
  running.push(proc);
  return proc;
}

/** API, dispatcher and (started later, by the caller) the handlers, each its own process, with `otel` in every environment. */
async function startChain(otel: Record<string, string>) {
  const secret = newWebhookSecret();
  const handlersPort = await freePort();
  const fn = (name: string) => `http://127.0.0.1:${handlersPort}/${name}`;
  const api = run(['start'], commandEnv(urlFor(db.name), { WEBHOOK_SECRET: secret, ...otel }));
  const apiUrl = String((await api.waitForLog((l) => l.msg === 'api listening', 30_000)).url);
  const dispatcher = run(
    ['dispatch'],
    commandEnv(urlFor(db.name), {
      WEBHOOK_SECRET: secret,
      VALIDATE_ORDER_URL: fn('validate-order'),
      CHARGE_PAYMENT_URL: fn('charge-payment'),
      ASSIGN_DRIVER_URL: fn('assign-driver'),
      DISPATCH_POLL_MS: '200',
      ...otel,
    }),
  );
  await dispatcher.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
  const startHandlers = async () => {
    const handlers = run(['handlers'], {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      HANDLERS_PORT: String(handlersPort),
      AUTH_JWT_SECRET: TEST_SECRET,
      WEBHOOK_SECRET: secret,
      API_URL: apiUrl,
      ...otel,
    });
    await handlers.waitForLog((l) => l.msg === 'handlers listening', 30_000);
    return handlers;
  };
  return { api, apiUrl, dispatcher, startHandlers };
}

async function placeOrder(apiUrl: string, traceparent: string): Promise<string> {
  const res = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice })}`, traceparent },
    body: JSON.stringify({
      query: PLACE,
      variables: { input: { restaurantId: ids.napoli, deliveryAddress: ADDRESS, items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
    }),
  });
  const body = (await res.json()) as { data?: { placeOrder: { id: string } }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!.placeOrder.id;
}

async function validatedEvents(orderId: string) {
  await waitFor(async () => (await eventsOf(db, orderId)).some((e) => e.type === 'order.validated'), 'order.validated', 30_000);
  return eventsOf(db, orderId);
}

const spanIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];

function one(spans: ReceivedSpan[], what: string, match: (s: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(match);
  expect(found, `${what}: ${JSON.stringify(spans.map((s) => [s.service, s.name]))}`).toHaveLength(1);
  return found[0]!;
}

describe('OpenTelemetry export over OTLP/HTTP', () => {
  it('one order is one trace across the API, dispatcher and handler processes, each span the child of the one that caused it; SIGTERM flushes them', async () => {
    collector = await startCollector();
    // A schedule far longer than the test: every span below arrives through the SIGTERM flush.
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '600000' };
    const chain = await startChain(otel);
    const orderId = await placeOrder(chain.apiUrl, `00-${TRACE_ID}-${CLIENT_SPAN}-01`);
    // The handlers are not up yet: the first attempt fails (connection refused) and is retried.
    await chain.dispatcher.waitForLog((l) => l.msg === 'delivery attempt failed; will retry' && l.trigger === 'validate-order', 15_000);
    const handlers = await chain.startHandlers();
    const events = await validatedEvents(orderId);
    expect(collector.requests).toEqual([]);

    for (const proc of [handlers, chain.dispatcher, chain.api]) {
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
    const spans = collector.spans.filter((s) => s.traceId === TRACE_ID);
    expect(collector.requests.every((r) => r.method === 'POST' && r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(true);

    const placed = events.find((e) => e.type === 'order.placed')!;
    const validated = events.find((e) => e.type === 'order.validated')!;
    const mutation = one(spans, 'the placeOrder span', (s) => s.name === 'mutation PlaceOrder');
    expect(mutation).toMatchObject({ service: 'threefactor-api', kind: KIND.server, parentSpanId: CLIENT_SPAN });
    expect(mutation.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'PlaceOrder', 'threefactor.events': [placed.id] });
    // The event carries the mutation span's own context: what the dispatcher continues from.
    expect(placed.traceContext).toEqual({ traceparent: `00-${TRACE_ID}-${mutation.spanId}-01` });

    const attempts = spans.filter((s) => s.name === 'deliver validate-order').sort((a, b) => Number(a.attributes['threefactor.attempt']) - Number(b.attributes['threefactor.attempt']));
    // At least one refused attempt (more if a retry came before the handlers listened), then the delivered one.
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((a) => [a.service, a.kind, a.parentSpanId, a.attributes['threefactor.attempt']])).toEqual(
      attempts.map((_, i) => ['threefactor-dispatcher', KIND.client, mutation.spanId, i + 1]),
    );
    const failed = attempts[0]!;
    const delivered = attempts.at(-1)!;
    for (const attempt of attempts.slice(0, -1)) {
      expect(attempt.status.code).toBe(STATUS_ERROR);
      expect(attempt.status.message).toMatch(/ECONNREFUSED/);
      expect(attempt.attributes).toMatchObject({ 'threefactor.outcome': 'retry', 'error.type': 'error' });
    }
    expect(delivered.status.code).not.toBe(STATUS_ERROR);
    expect(delivered.attributes).toMatchObject({
      'threefactor.outcome': 'delivered',
      'threefactor.trigger': 'validate-order',
      'threefactor.event': placed.id,
      'threefactor.event_type': 'order.placed',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
    });
    expect(delivered.attributes['threefactor.delivery']).toBe(failed.attributes['threefactor.delivery']);

    const handled = one(spans, 'the handler span', (s) => s.name === 'handle validate-order');
    expect(handled).toMatchObject({ service: 'threefactor-handlers', kind: KIND.server, parentSpanId: delivered.spanId });
    expect(handled.attributes).toMatchObject({ 'threefactor.outcome': 'validated', 'threefactor.event': placed.id, 'threefactor.attempt': attempts.length });
    const writeBack = one(spans, 'the write-back client span', (s) => s.service === 'threefactor-handlers' && s.kind === KIND.client);
    expect(writeBack).toMatchObject({ name: 'mutation RecordOrderValidation', parentSpanId: handled.spanId });
    expect(writeBack.attributes).toMatchObject({ 'http.response.status_code': 200, 'threefactor.trigger': 'validate-order' });
    const writeBackMutation = one(spans, 'the write-back mutation span', (s) => s.service === 'threefactor-api' && s.name === 'mutation RecordOrderValidation');
    expect(writeBackMutation).toMatchObject({ kind: KIND.server, parentSpanId: writeBack.spanId });
    expect(writeBackMutation.attributes).toMatchObject({ 'threefactor.trigger': 'validate-order', 'threefactor.events': [validated.id] });
    expect(spanIdOf(validated.traceContext?.traceparent)).toBe(writeBackMutation.spanId);

    // Every span of the three processes is in the one trace, and none carries the order's payload.
    expect(collector.spans.filter((s) => s.traceId !== TRACE_ID)).toEqual([]);
    expect(JSON.stringify(collector.spans)).not.toContain(ADDRESS);
  }, 120_000);

  it('all in one process, the in-process handler is its attempt\'s child', async () => {
    collector = await startCollector();
    const { proc, baseUrl } = await startAllInOne(urlFor(db.name), { SEED_DEMO_DATA: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    running.push(proc);
    const traceId = 'a'.repeat(32);
    const orderId = await placeOrder(`${baseUrl}/graphql`, `00-${traceId}-${'b'.repeat(16)}-01`);
    await validatedEvents(orderId);
    await waitFor(() => collector.spans.filter((s) => s.traceId === traceId).length >= 5, 'five spans', 15_000);
    const spans = collector.spans.filter((s) => s.traceId === traceId);
    const mutation = one(spans, 'placeOrder', (s) => s.name === 'mutation PlaceOrder');
    const attempt = one(spans, 'the attempt', (s) => s.name === 'deliver validate-order');
    expect(attempt).toMatchObject({ kind: KIND.internal, parentSpanId: mutation.spanId });
    const handled = one(spans, 'the handler', (s) => s.name === 'handle validate-order');
    expect(handled.parentSpanId).toBe(attempt.spanId);
    const writeBack = one(spans, 'the write-back', (s) => s.kind === KIND.client);
    expect(writeBack.parentSpanId).toBe(handled.spanId);
    expect(one(spans, 'its mutation', (s) => s.name === 'mutation RecordOrderValidation' && s.kind === KIND.server).parentSpanId).toBe(writeBack.spanId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['threefactor-api']));
  }, 60_000);

  it('without OTEL_EXPORTER_OTLP_ENDPOINT the same flow sends the receiver nothing', async () => {
    collector = await startCollector();
    // Only the batch delay is set: it must not turn anything on.
    const chain = await startChain({ OTEL_BSP_SCHEDULE_DELAY: '10' });
    const handlers = await chain.startHandlers();
    const orderId = await placeOrder(chain.apiUrl, `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`);
    const events = await validatedEvents(orderId);
    // The trace still travels, as it always did, by continueTrace's ids.
    expect(events.map((e) => String(e.traceContext?.traceparent).split('-')[1])).toEqual(['c'.repeat(32), 'c'.repeat(32)]);
    for (const proc of [handlers, chain.dispatcher, chain.api]) {
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
    expect(collector.requests).toEqual([]);
  }, 120_000);
});
