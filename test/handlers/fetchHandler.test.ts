/**
 * The kit's fetch core used directly, as a fetch-speaking platform would: a
 * `Request` in, a `Response` out, no server in between. Functions written with
 * defineHandler, one of them writing back through the real API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { createLogger } from '../../src/engine/log.js';
import {
  createFetchHandler,
  defineHandler,
  HEADER,
  PermanentFailure,
  RetryLater,
  SIGNATURE_TOLERANCE_SEC,
  type FetchHandler,
  type FetchHandlerOptions,
} from '../../src/kit/index.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { answerOf, domainEvent, newWebhookSecret, signed, signedRequest } from '../support/webhooks.js';

const silent = createLogger('silent');
const secret = newWebhookSecret();
const ORIGIN = 'https://functions.example';

let db: TestDatabase;
let api: TestApi;
let options: FetchHandlerOptions;
let handle: FetchHandler;

/** Calls that reached a function's business logic, by function. */
const ran: Record<string, number> = {};
const count = (name: string) => (ran[name] = (ran[name] ?? 0) + 1);

const countRestaurants = defineHandler({
  name: 'count-restaurants',
  on: ['thing.happened'],
  data: z.object({ thingId: z.string() }),
  async handle(event, tools) {
    count('count-restaurants');
    const data = await tools.graphql<{ restaurants: Array<{ id: string }> }>('{ restaurants { id } }');
    return `${event.data.thingId}:${data.restaurants.length}`;
  },
});

const busy = defineHandler({
  name: 'busy',
  on: ['thing.happened'],
  data: z.object({}),
  async handle() {
    throw new RetryLater('nobody free', 42);
  },
});

const never = defineHandler({
  name: 'never',
  on: ['thing.happened'],
  data: z.object({}),
  async handle() {
    throw new PermanentFailure('this thing can never be done');
  },
});

const broken = defineHandler({
  name: 'broken',
  on: ['thing.happened'],
  data: z.object({}),
  async handle() {
    throw new Error('bug in business logic');
  },
});

beforeAll(async () => {
  db = await freshDatabase();
  await seedDemoData(db.db);
  api = await startTestApi(db);
  options = { webhookSecret: secret, apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: silent, maxBodyBytes: 4096 };
  handle = createFetchHandler([countRestaurants, busy, never, broken], options);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const thing = (id = 'thing-1') => domainEvent('thing.happened', { thingId: id });
const at = (name: string) => `${ORIGIN}/${name}`;
const send = async (request: Request) => answerOf(await handle(request));

/** A Request whose body is a stream the test controls (a slow or endless sender). */
function streamingRequest(url: string, headers: Record<string, string>, body: ReadableStream<Uint8Array>): Request {
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', headers, body, duplex: 'half' };
  return new Request(url, init);
}

/** A body stream that sends `first` and then waits, counting how often it is read. */
function heldBody(first: string): { stream: ReadableStream<Uint8Array>; pulls: () => number; cut: () => void } {
  let pulls = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: (c) => {
        if (pulls++ === 0) c.enqueue(new TextEncoder().encode(first));
        // Later reads stay pending: the sender has stopped sending.
        return new Promise(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    pulls: () => pulls,
    cut: () => {
      try {
        controller.error(new Error('sender gone'));
      } catch {
        // Already closed or errored.
      }
    },
  };
}

describe('a signed delivery', () => {
  it('runs a defineHandler function, which writes back through the API as the service role', async () => {
    const before = ran['count-restaurants'] ?? 0;
    const res = await send(signedRequest(at('count-restaurants'), thing('t-ok'), { secret }));
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 't-ok:3' } });
    expect(ran['count-restaurants']).toBe(before + 1);
  });

  it('stops the function\'s API calls when the Request is aborted (the sender gone)', async () => {
    const request = new Request(signedRequest(at('count-restaurants'), thing(), { secret }), { signal: AbortSignal.abort() });
    const res = await send(request);
    expect(res).toMatchObject({ status: 503, body: { error: 'GraphQL API call was abandoned' } });
  });
});

describe('the signature is checked before anything is parsed or run', () => {
  it.each([
    ['unsigned', { headers: { [HEADER.webhookSignature]: '' } }, /Missing required headers/],
    ['signed with another secret', { secret: newWebhookSecret() }, /No matching signature/],
    ['tampered with after signing', { tamper: (b: string) => b.replace('t-x', 't-y') }, /No matching signature/],
    ['signed outside the tolerance', { signedAt: new Date(Date.now() - (SIGNATURE_TOLERANCE_SEC + 60) * 1000) }, /too old/],
  ])('refuses a delivery %s with 401', async (_what, opts, reason) => {
    const before = ran['count-restaurants'] ?? 0;
    const res = await send(signedRequest(at('count-restaurants'), thing('t-x'), { secret, ...opts }));
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(reason);
    expect(ran['count-restaurants'] ?? 0).toBe(before);
  });

  it('refuses a signed body that is not JSON (400) or not a Hasura payload (400, naming the field)', async () => {
    expect(await send(signedRequest(at('count-restaurants'), '{"id": "x",', { secret }))).toMatchObject({
      status: 400,
      body: { error: 'body is not valid JSON' },
    });
    const { trigger: _drop, ...noTrigger } = thing();
    const res = await send(signedRequest(at('count-restaurants'), noTrigger, { secret }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^body is not a Hasura event payload: trigger:/);
  });
});

describe('the body is read with a bound', () => {
  it('answers 413 on an over-long Content-Length without reading a byte', async () => {
    const body = heldBody('{"id":');
    try {
      const res = await send(streamingRequest(at('count-restaurants'), { 'content-length': '5000' }, body.stream));
      expect(res).toMatchObject({ status: 413, body: { error: 'body exceeds 4096 bytes' } });
      expect(body.pulls()).toBe(0);
    } finally {
      body.cut();
    }
  });

  it('answers 413 once the bytes received pass the bound, whatever Content-Length claimed', async () => {
    const big = signed(domainEvent('thing.happened', { thingId: 'x'.repeat(5000) }), { secret });
    const request = new Request(at('count-restaurants'), {
      method: 'POST',
      headers: { ...big.headers, 'content-length': '100' },
      body: big.body,
    });
    expect((await send(request)).status).toBe(413);
  });

  it('answers 411 when Content-Length is missing', async () => {
    const delivery = signed(thing(), { secret });
    const res = await send(new Request(at('count-restaurants'), { method: 'POST', headers: delivery.headers, body: delivery.body }));
    expect(res).toMatchObject({ status: 411, body: { error: 'Content-Length is required' } });
  });
});

describe('routes', () => {
  it('answers 404 for an unknown function and 405 for GET', async () => {
    expect((await send(signedRequest(at('nope'), thing(), { secret }))).status).toBe(404);
    const get = await handle(new Request(at('count-restaurants')));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('serves /healthz with its functions, and /readyz: 503 and new calls refused once the host drains', async () => {
    expect(await (await handle(new Request(at('healthz')))).json()).toEqual({
      status: 'ok',
      handlers: ['count-restaurants', 'busy', 'never', 'broken'],
    });
    expect((await handle(new Request(at('readyz')))).status).toBe(200);
    const draining = createFetchHandler([countRestaurants], { ...options, draining: () => true });
    expect((await draining(new Request(at('readyz')))).status).toBe(503);
    const refused = await draining(signedRequest(at('count-restaurants'), thing(), { secret }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get(HEADER.retryAfter)).toBe('1');
  });
});

describe('failures map to the status convention', () => {
  it.each([
    ['RetryLater', 'busy', 503, 'nobody free', '42'],
    ['PermanentFailure', 'never', 422, 'this thing can never be done', null],
    ['an unexpected error (its message, no stack)', 'broken', 500, 'bug in business logic', null],
  ])('%s answers its status', async (_what, name, status, error, retryAfter) => {
    const res = await send(signedRequest(at(name), thing(), { secret }));
    expect(res).toMatchObject({ status, body: { error } });
    expect(res.headers.get(HEADER.retryAfter)).toBe(retryAfter);
  });

  it('an event the function does not handle answers 422', async () => {
    const res = await send(signedRequest(at('count-restaurants'), domainEvent('other.thing', { thingId: 'x' }), { secret }));
    expect(res).toMatchObject({ status: 422, body: { error: 'count-restaurants handles thing.happened, not other.thing' } });
  });
});

describe('in-flight slots', () => {
  it('are taken only after the body is in and signed: unsigned and half-sent requests never hold one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hold = defineHandler({
      name: 'hold',
      on: ['thing.happened'],
      data: z.object({}),
      async handle() {
        started();
        await gate;
        return 'held';
      },
    });
    const one = createFetchHandler([hold], { ...options, maxInFlight: 1 });
    const halfSent = Array.from({ length: 4 }, () => heldBody('{"id":'));
    const first = halfSent.map((b) => one(streamingRequest(at('hold'), { 'content-length': '1000' }, b.stream)));
    try {
      // Four bodies are still arriving, yet the signed delivery gets the one slot.
      const held = one(signedRequest(at('hold'), thing(), { secret }));
      await Promise.race([running, held.then((r) => Promise.reject(new Error(`the signed delivery answered ${r.status}`)))]);
      // The slot is full: an unsigned request is still refused for its signature, not for capacity.
      expect((await one(signedRequest(at('hold'), thing(), { secret, headers: { [HEADER.webhookSignature]: '' } }))).status).toBe(401);
      const second = await one(signedRequest(at('hold'), thing(), { secret }));
      expect(second.status).toBe(503);
      expect(second.headers.get(HEADER.retryAfter)).toBe('1');
      release();
      expect((await answerOf(await held)).body).toEqual({ ok: true, outcome: 'held' });
    } finally {
      release();
      for (const b of halfSent) b.cut();
      await Promise.all(first);
    }
  });
});
