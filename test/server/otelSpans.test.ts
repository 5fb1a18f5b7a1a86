/**
 * Spans in one process, with a real SDK registered by the test as a host
 * would (an in-memory exporter, the SDK's own): the API's operation span for
 * a caller whose traceparent is invalid (a new trace) and for a refused
 * mutation (an error); the kit served alone by its Node adapter, whose
 * `drain` flushes the host's provider so the calls it drained are exported.
 */
import { trace } from '@opentelemetry/api';
import { BatchSpanProcessor, InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateOrder } from '../../src/apps/food-delivery/handlers/validateOrder.js';
import { parseConfig } from '../../src/engine/config.js';
import { tracesEnabled } from '../../src/engine/runtime/telemetry.js';
import { serveHandlers } from '../../src/kit/node.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { eventsOf, ids, ok, seeded, tokensFor, type Tokens } from '../support/orders.js';
import { deliver, deliveryOf, newWebhookSecret } from '../support/webhooks.js';

const PLACE = `mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const APPROVE = `mutation Approve($orderId: ID!) { approveOrder(orderId: $orderId) { id } }`;
const order = { restaurantId: ids.napoli, deliveryAddress: '1 Span St', items: [{ menuItemId: ids.margherita, quantity: 1 }] };

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
const exporter = new InMemorySpanExporter();
// Simple: each span is exported as it ends, so the API's are there when its response is.
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(async () => {
  provider.register();
  db = await freshDatabase();
  await seeded(db);
  // The endpoint only switches the operation plugin on: the test registered the SDK itself.
  api = await startTestApi(db, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  tokens = await tokensFor(api);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
  await provider.shutdown();
  trace.disable();
});

describe('when tracing is on', () => {
  const config = (env: Record<string, string>) => parseConfig({ NODE_ENV: 'test', ...env });

  it('an endpoint turns it on, OTEL_SDK_DISABLED=true off, and nothing else', () => {
    expect(tracesEnabled(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }))).toBe(true);
    expect(tracesEnabled(config({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces' }))).toBe(true);
    expect(tracesEnabled(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }))).toBe(false);
    expect(tracesEnabled(config({ OTEL_SERVICE_NAME: 'x', OTEL_BSP_SCHEDULE_DELAY: '10' }))).toBe(false);
  });

  it('a malformed endpoint or batch setting stops the process with one line naming it, never its value', () => {
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow('config: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL with protocol http: or https:');
    expect(() => config({ OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/^config: OTEL_BSP_SCHEDULE_DELAY /);
  });
});

const spanNamed = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('the API operation span', () => {
  it('for an invalid traceparent starts a new trace, and the events carry that span', async () => {
    exporter.reset();
    const placed = ok(await api.gql<{ placeOrder: { id: string } }>(PLACE, { input: order }, tokens.alice, { traceparent: '00-not-a-trace-01' })).placeOrder;
    const [span] = spanNamed('mutation PlaceOrder');
    expect(span).toBeDefined();
    expect(span!.parentSpanContext).toBeUndefined();
    const { traceId, spanId } = span!.spanContext();
    expect((await eventsOf(db, placed.id))[0]!.traceContext).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
  });

  it('for a refused mutation is an error with the code, and names no event', async () => {
    exporter.reset();
    const placed = ok(await api.gql<{ placeOrder: { id: string } }>(PLACE, { input: order }, tokens.alice)).placeOrder;
    // Not paid yet: the restaurant cannot approve it.
    const res = await api.gql(APPROVE, { orderId: placed.id }, tokens.napoli);
    expect(res.errors?.[0]?.extensions?.code).toBe('ILLEGAL_TRANSITION');
    const [span] = spanNamed('mutation Approve');
    expect(span!.status).toMatchObject({ code: 2, message: 'ILLEGAL_TRANSITION' });
    expect(span!.attributes).toMatchObject({ 'error.type': 'ILLEGAL_TRANSITION', 'graphql.operation.type': 'mutation' });
    expect(span!.attributes['threefactor.events']).toBeUndefined();
  });
});

describe('the kit served alone, its host registering the SDK', () => {
  it("drain flushes the host's provider: the handler and write-back spans of the calls it drained are exported", async () => {
    // The SDK's batching, with a delay no test waits out: only a flush exports.
    const batched = new InMemorySpanExporter();
    const host = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(batched, { scheduledDelayMillis: 600_000 })] });
    trace.disable();
    host.register();
    const secret = newWebhookSecret();
    const server = await serveHandlers([validateOrder], { webhookSecret: secret, apiUrl: `${api.url}/graphql`, serviceToken: tokens.service, port: 0 });
    try {
      const placed = ok(await api.gql<{ placeOrder: { id: string } }>(PLACE, { input: order }, tokens.alice)).placeOrder;
      const event = (await eventsOf(db, placed.id))[0]!;
      const parent = `00-${'e'.repeat(32)}-${'f'.repeat(16)}-01`;
      const answer = await deliver(`${server.url}/validate-order`, deliveryOf(event, 'validate-order'), { secret, headers: { traceparent: parent } });
      expect(answer).toMatchObject({ status: 200, body: { outcome: 'validated' } });
      expect(batched.getFinishedSpans()).toEqual([]);
      await server.drain(5_000);
      const spans = batched.getFinishedSpans().filter((s) => s.spanContext().traceId === 'e'.repeat(32));
      const handled = spans.find((s) => s.name === 'handle validate-order')!;
      expect(handled.parentSpanContext?.spanId).toBe('f'.repeat(16));
      expect(handled.attributes).toMatchObject({ 'threefactor.handler': 'validate-order', 'threefactor.event': event.id, 'threefactor.attempt': 1, 'threefactor.outcome': 'validated' });
      const call = spans.find((s) => s.name === 'mutation RecordOrderValidation' && s.kind === 2)!;
      expect(call.parentSpanContext?.spanId).toBe(handled.spanContext().spanId);
      // The API's span for the write-back (same process here) is the call's child.
      const served = spans.find((s) => s.name === 'mutation RecordOrderValidation' && s.kind === 1)!;
      expect(served.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
    } finally {
      await server.drain(1_000);
      await host.shutdown();
      trace.disable();
      provider.register();
    }
  });
});
