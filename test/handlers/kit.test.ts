import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { defineHandler, HandlerFailure, RetryLater, toInProcess } from '../../src/kit/index.js';
import { serveHandlers, type HandlerServer } from '../../src/kit/node.js';
import { createLogger } from '../../src/engine/log.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { deliver, domainEvent, newWebhookSecret } from '../support/webhooks.js';

const silent = createLogger('silent');
const secret = newWebhookSecret();

let db: TestDatabase;
let api: TestApi;
let server: HandlerServer;

/** Calls that reached a function's business logic, by function. */
const ran: Record<string, number> = {};
const count = (name: string) => (ran[name] = (ran[name] ?? 0) + 1);

/** Reads the catalogue through the real API with the service token. */
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

const broken = defineHandler({
  name: 'broken',
  on: ['thing.happened'],
  data: z.object({}),
  async handle() {
    count('broken');
    throw new Error('bug in business logic');
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

const badQuery = defineHandler({
  name: 'bad-query',
  on: ['thing.happened'],
  data: z.object({}),
  async handle(_event, tools) {
    await tools.graphql('{ noSuchField }');
  },
});

beforeAll(async () => {
  db = await freshDatabase();
  await seedDemoData(db.db);
  api = await startTestApi(db);
  server = await serveHandlers([countRestaurants, broken, busy, badQuery], {
    port: 0,
    webhookSecret: secret,
    apiUrl: `${api.url}/graphql`,
    serviceToken: await api.token('service'),
    log: silent,
    maxBodyBytes: 4096,
  });
});
afterAll(async () => {
  await server?.drain(1000);
  await api?.close();
  await db?.drop();
});

const thing = (id = 'thing-1') => domainEvent('thing.happened', { thingId: id });
const url = (name: string) => `${server.url}/${name}`;

describe('Standard Webhooks signature', () => {
  it('runs the function for a correctly signed delivery and writes back through the API as the service role', async () => {
    const before = ran['count-restaurants'] ?? 0;
    const res = await deliver(url('count-restaurants'), thing('t-ok'), { secret });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, outcome: 't-ok:3' });
    expect(ran['count-restaurants']).toBe(before + 1);
  });

  it.each([
    ['a tampered body', { tamper: (b: string) => b.replace('t-x', 't-y') }, /No matching signature/],
    ['another secret', { secret: newWebhookSecret() }, /No matching signature/],
    ['a timestamp older than five minutes', { signedAt: new Date(Date.now() - 6 * 60_000) }, /too old/],
    ['a timestamp in the future', { signedAt: new Date(Date.now() + 6 * 60_000) }, /too new/],
    ['no signature headers', { headers: { 'webhook-signature': '' } }, /Missing required headers/],
  ])('rejects %s with 401 and does not run the function', async (_what, opts, reason) => {
    const before = ran['count-restaurants'] ?? 0;
    const res = await deliver(url('count-restaurants'), thing('t-x'), { secret, ...opts });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(reason);
    expect(ran['count-restaurants'] ?? 0).toBe(before);
  });
});

describe('request checks', () => {
  it('answers 400 for a signed body that is not JSON, without running the function', async () => {
    const before = ran['count-restaurants'] ?? 0;
    const res = await deliver(url('count-restaurants'), '{"id": "x",', { secret });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('body is not valid JSON');
    expect(ran['count-restaurants'] ?? 0).toBe(before);
  });

  it('answers 400 naming the field when the body is not a Hasura event payload', async () => {
    const { trigger: _drop, ...noTrigger } = thing();
    expect((await deliver(url('count-restaurants'), noTrigger, { secret })).body.error).toMatch(/^body is not a Hasura event payload: trigger:/);
    const badOp = { ...thing(), event: { ...thing().event, op: 'UPSERT' } };
    const res = await deliver(url('count-restaurants'), badOp, { secret });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/event\.op/);
  });

  it('answers 422 (permanent) for an event of a type the function does not handle', async () => {
    const res = await deliver(url('count-restaurants'), domainEvent('other.thing', { thingId: 'x' }), { secret });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('count-restaurants handles thing.happened, not other.thing');
  });

  it('answers 422 naming the field when the event lacks data the function reads', async () => {
    const res = await deliver(url('count-restaurants'), domainEvent('thing.happened', { thingId: 7 }), { secret });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatch(/lacks what count-restaurants needs: thingId: Invalid input: expected string/);
  });

  it('answers 413 for a body over the limit', async () => {
    const big = domainEvent('thing.happened', { thingId: 'x'.repeat(5000) });
    const res = await deliver(url('count-restaurants'), big, { secret });
    expect(res.status).toBe(413);
  });

  it('answers 404 for an unknown function and 405 for GET', async () => {
    expect((await deliver(url('nope'), thing(), { secret })).status).toBe(404);
    const get = await fetch(url('count-restaurants'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('serves /healthz with the functions it hosts, and /readyz', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', handlers: ['count-restaurants', 'broken', 'busy', 'bad-query'] });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});

describe('failures map to the retry convention', () => {
  it('answers 500 when the function throws, with the message but no stack', async () => {
    const res = await deliver(url('broken'), thing(), { secret });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'bug in business logic' });
  });

  it('answers 503 with Retry-After for RetryLater', async () => {
    const res = await deliver(url('busy'), thing(), { secret });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('42');
    expect(res.body.error).toBe('nobody free');
  });

  it('answers 502 when the API rejects the GraphQL operation', async () => {
    const res = await deliver(url('bad-query'), thing(), { secret });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/^GraphQL API answered GRAPHQL_VALIDATION_FAILED: Cannot query field "noSuchField"/);
  });

  it('answers 503 when the API is unreachable', async () => {
    const closedPort = await unusedPort();
    const lone = await serveHandlers([countRestaurants], {
      port: 0,
      webhookSecret: secret,
      apiUrl: `http://127.0.0.1:${closedPort}/graphql`,
      serviceToken: await api.token('service'),
      log: silent,
    });
    try {
      const res = await deliver(`${lone.url}/count-restaurants`, thing(), { secret });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('GraphQL API is unreachable');
    } finally {
      await lone.drain(1000);
    }
  });
});

describe('write-back requests', () => {
  it('carry the service token, continue the delivery trace and pass back the causing trigger', async () => {
    const seen: IncomingHttpHeaders[] = [];
    // Records what reaches "the API"; the real API does not echo request headers.
    const recorder = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { restaurants: [] } }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const lone = await serveHandlers([countRestaurants], {
      port: 0,
      webhookSecret: secret,
      apiUrl: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/graphql`,
      serviceToken: 'the-service-token',
      log: silent,
    });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const event = domainEvent('thing.happened', { thingId: 'x' }, { id: 'evt-1', trigger: 'count-on-thing' });
      const res = await deliver(`${lone.url}/count-restaurants`, event, {
        secret,
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      expect(res.status).toBe(200);
      const headers = seen[0]!;
      expect(headers.authorization).toBe('Bearer the-service-token');
      expect(headers['x-threefactor-trigger']).toBe('count-on-thing');
      const [, sentTrace, sentSpan] = String(headers.traceparent).split('-');
      expect(sentTrace).toBe(traceId);
      // The handler is its own span, a child of the delivery's.
      expect(sentSpan).not.toBe('00f067aa0ba902b7');

      // In-process there is no header: the trace comes from the body's trace_context (Hasura form).
      const otherTrace = 'a3ce929d0e0e47364bf92f3577b34da6';
      const inProcess = toInProcess(countRestaurants, { apiUrl: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/graphql`, serviceToken: 't', log: silent });
      await inProcess(domainEvent('thing.happened', { thingId: 'y' }, { traceparent: `00-${otherTrace}-00f067aa0ba902b7-01` }));
      expect(String(seen[1]!.traceparent).split('-')[1]).toBe(otherTrace);
    } finally {
      await lone.drain(1000);
      await new Promise((resolve) => recorder.close(resolve));
    }
  });
});

describe('in-process', () => {
  it('runs the same function on the identical body', async () => {
    const before = ran['count-restaurants'] ?? 0;
    const fn = toInProcess(countRestaurants, { apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: silent });
    await fn(thing());
    expect(ran['count-restaurants']).toBe(before + 1);
  });

  it('stops its API calls when the dispatcher aborts the attempt', async () => {
    const before = ran['count-restaurants'] ?? 0;
    const fn = toInProcess(countRestaurants, { apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: silent });
    const failure = await fn(thing(), AbortSignal.abort()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ status: 503, message: 'GraphQL API call was abandoned' });
    expect(ran['count-restaurants']).toBe(before + 1);
  });

  it('throws a HandlerFailure with the webhook status: retryable or permanent', async () => {
    const opts = { apiUrl: `${api.url}/graphql`, serviceToken: await api.token('service'), log: silent };
    const busyFailure = await toInProcess(busy, opts)(thing()).catch((e: unknown) => e);
    expect(busyFailure).toBeInstanceOf(HandlerFailure);
    expect(busyFailure).toMatchObject({ status: 503, retryable: true, retryAfterSec: 42 });
    const misrouted = await toInProcess(countRestaurants, opts)(domainEvent('other.thing', {})).catch((e: unknown) => e);
    expect(misrouted).toMatchObject({ status: 422, retryable: false });
    const { delivery_info: _drop, ...malformed } = thing();
    const bad = await toInProcess(countRestaurants, opts)(malformed as never).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, retryable: false });
  });
});

describe('draining and bounds', () => {
  it('lets an in-flight call finish, refuses new connections, then closes', async () => {
    const gate = deferred();
    const started = deferred();
    const slow = defineHandler({
      name: 'slow',
      on: ['thing.happened'],
      data: z.object({}),
      async handle() {
        started.resolve();
        await gate.promise;
        return 'finished';
      },
    });
    const lone = await serveHandlers([slow], { port: 0, webhookSecret: secret, apiUrl: `${api.url}/graphql`, serviceToken: 'x', log: silent });
    const inFlight = deliver(`${lone.url}/slow`, thing(), { secret });
    await started.promise;
    let drained = false;
    const draining = lone.drain(5000).then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    await expect(fetch(`${lone.url}/healthz`)).rejects.toThrow();
    gate.resolve();
    expect(await inFlight).toMatchObject({ status: 200, body: { ok: true, outcome: 'finished' } });
    await draining;
    expect(drained).toBe(true);
  });

  it('refuses calls beyond maxInFlight with 503 instead of queueing them', async () => {
    const gate = deferred();
    const started = deferred();
    const slow = defineHandler({
      name: 'slow',
      on: ['thing.happened'],
      data: z.object({}),
      async handle() {
        started.resolve();
        await gate.promise;
      },
    });
    const lone = await serveHandlers([slow], {
      port: 0,
      webhookSecret: secret,
      apiUrl: `${api.url}/graphql`,
      serviceToken: 'x',
      log: silent,
      maxInFlight: 1,
    });
    try {
      const first = deliver(`${lone.url}/slow`, thing(), { secret });
      await started.promise;
      const second = await deliver(`${lone.url}/slow`, thing(), { secret });
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      gate.resolve();
      expect((await first).status).toBe(200);
    } finally {
      gate.resolve();
      await lone.drain(1000);
    }
  });
});

describe('a sender that gives up mid-body', () => {
  it('frees its slot: with room for one call, the next delivery still runs', async () => {
    const lone = await serveHandlers([countRestaurants], {
      port: 0,
      webhookSecret: secret,
      apiUrl: `${api.url}/graphql`,
      serviceToken: await api.token('service'),
      log: silent,
      maxInFlight: 1,
    });
    try {
      const { request } = await import('node:http');
      await new Promise<void>((resolve) => {
        const req = request(`${lone.url}/count-restaurants`, { method: 'POST', headers: { 'content-length': '1000' } });
        req.on('error', () => resolve());
        req.write('{"id":', () => setTimeout(() => req.destroy(), 50));
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const res = await deliver(`${lone.url}/count-restaurants`, thing('after-abort'), { secret });
      expect(res).toMatchObject({ status: 200, body: { outcome: 'after-abort:3' } });
    } finally {
      await lone.drain(1000);
    }
  });
});

describe('slow senders', () => {
  it('hold no call slot: connections that send a Content-Length and a few bytes do not make a signed delivery get 503', async () => {
    const lone = await serveHandlers([countRestaurants], {
      port: 0,
      webhookSecret: secret,
      apiUrl: `${api.url}/graphql`,
      serviceToken: await api.token('service'),
      log: silent,
      maxInFlight: 2,
    });
    const slow: Socket[] = [];
    let requests = 0;
    lone.server.on('request', () => requests++);
    try {
      for (let i = 0; i < 8; i++) {
        const socket = connect(lone.port, '127.0.0.1');
        socket.on('error', () => {});
        slow.push(socket);
        socket.write(
          'POST /count-restaurants HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"id":',
        );
      }
      // Every slow request has reached the handler server and is waiting for its body.
      await waitFor(() => requests === slow.length, 'the slow requests to arrive');
      const res = await deliver(`${lone.url}/count-restaurants`, thing('past-the-slow'), { secret });
      expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'past-the-slow:3' } });
    } finally {
      for (const socket of slow) socket.destroy();
      await lone.drain(1000);
    }
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
