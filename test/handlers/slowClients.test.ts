/**
 * Slow senders against the real handlers server (the Node adapter on a real
 * port), as the audit attacked it: raw sockets that declare a Content-Length
 * and then stall, or dribble a byte at a time. A signed delivery must still
 * run while they hang, and each of them must get a clear 408 within the body
 * deadline and be closed, instead of holding a connection for half a minute.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../src/engine/log.js';
import { createFetchHandler, defineHandler } from '../../src/kit/index.js';
import { serveHandlers, type HandlerServer } from '../../src/kit/node.js';
import { TEST_SECRET } from '../support/api.js';
import { runCommand } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { answerOf, deliver, domainEvent, newWebhookSecret, signed } from '../support/webhooks.js';

const secret = newWebhookSecret();
const BODY_TIMEOUT_MS = 1_000;

const echo = defineHandler({
  name: 'echo',
  on: ['thing.happened'],
  data: z.object({ thingId: z.string() }),
  async handle({ data }) {
    return data.thingId;
  },
});

/** The function never writes back: no API is needed. */
const serveOptions = () => ({ webhookSecret: secret, apiUrl: 'http://127.0.0.1:9/graphql', serviceToken: 'unused', log: createLogger('silent') });

interface SlowRequest {
  socket: Socket;
  /** Everything the server sent, once it has closed the connection. */
  closed: Promise<{ reply: string; afterMs: number }>;
  stop(): void;
}

/** A raw HTTP request that declares `contentLength` bytes, sends `first`, then a byte every `dribbleMs` (or nothing more). */
function slowRequest(port: number, opts: { contentLength: number; first: string; dribbleMs?: number; path?: string }): SlowRequest {
  const socket = connect(port, '127.0.0.1');
  const opened = Date.now();
  let reply = '';
  let dribble: NodeJS.Timeout | undefined;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
  const closed = new Promise<{ reply: string; afterMs: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(dribble);
      resolve({ reply, afterMs: Date.now() - opened });
    }),
  );
  socket.write(
    `POST ${opts.path ?? '/echo'} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${opts.contentLength}\r\n\r\n${opts.first}`,
  );
  if (opts.dribbleMs) dribble = setInterval(() => socket.write(' '), opts.dribbleMs);
  return {
    socket,
    closed,
    stop: () => {
      clearInterval(dribble);
      socket.destroy();
    },
  };
}

const stillOpenAfter = (ms: number) => new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms).unref());

let server: HandlerServer | undefined;
let slow: SlowRequest[] = [];
afterEach(async () => {
  for (const s of slow) s.stop();
  slow = [];
  await server?.drain(1_000);
  server = undefined;
});

describe('slow senders', () => {
  it('70 stalled and 5 dribbling bodies: a signed delivery still runs, and each slow one gets 408 and is closed within the body deadline', async () => {
    server = await serveHandlers([echo], { ...serveOptions(), port: 0, bodyTimeoutMs: BODY_TIMEOUT_MS });
    let requests = 0;
    server.server.on('request', () => requests++);
    const port = server.port;
    for (let i = 0; i < 70; i++) slow.push(slowRequest(port, { contentLength: 1000, first: '{"id":"' }));
    for (let i = 0; i < 5; i++) slow.push(slowRequest(port, { contentLength: 1000, first: '{', dribbleMs: 100 }));
    await waitFor(() => requests === slow.length, 'every slow request to reach the handlers server', 20_000);

    const res = await deliver(`${server.url}/echo`, domainEvent('thing.happened', { thingId: 'past-the-slow' }), { secret });
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'past-the-slow' } });

    // Generous for a loaded machine, far below the 30 s a sender used to get.
    const deadline = stillOpenAfter(12_000);
    const outcomes = await Promise.all(slow.map((s) => Promise.race([s.closed, deadline])));
    const stillOpen = outcomes.filter((o) => o === 'still open').length;
    expect(stillOpen, `${stillOpen} of ${slow.length} slow connections still open after 12 s`).toBe(0);
    for (const outcome of outcomes) {
      if (outcome === 'still open') continue;
      expect(outcome.reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(outcome.reply).toMatch(/\r\nconnection: close\r\n/i);
      expect(outcome.reply).toContain(`the body did not arrive within ${BODY_TIMEOUT_MS} ms`);
    }
  });

  it('a sender that stalls inside its headers gets 408 and is closed within the same deadline', async () => {
    server = await serveHandlers([echo], { ...serveOptions(), port: 0, bodyTimeoutMs: BODY_TIMEOUT_MS });
    const socket = connect(server.port, '127.0.0.1');
    const opened = Date.now();
    let reply = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    slow.push({ socket, closed: closed.then(() => ({ reply, afterMs: 0 })), stop: () => socket.destroy() });
    socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-len');
    const outcome = await Promise.race([closed.then(() => 'closed'), stillOpenAfter(12_000)]);
    expect(outcome, `open for ${Date.now() - opened} ms`).toBe('closed');
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('the fetch core alone (any platform) answers 408 for a body that stops arriving, and cancels its stream', async () => {
    const handle = createFetchHandler([echo], { ...serveOptions(), bodyTimeoutMs: BODY_TIMEOUT_MS });
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(new TextEncoder().encode('{"id":')),
      pull: () => new Promise(() => {}),
      cancel: () => void (cancelled = true),
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', headers: { 'content-length': '1000' }, body, duplex: 'half' };
    const res = await answerOf(await handle(new Request('https://functions.example/echo', init)));
    expect(res).toMatchObject({ status: 408, body: { error: `the body did not arrive within ${BODY_TIMEOUT_MS} ms` } });
    expect(cancelled).toBe(true);
  });

  it('HANDLER_BODY_TIMEOUT_MS sets the deadline of the handlers command', async () => {
    const proc = runCommand(['handlers'], {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      HANDLERS_PORT: '0',
      AUTH_JWT_SECRET: TEST_SECRET,
      WEBHOOK_SECRET: secret,
      HANDLER_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
    });
    try {
      const { url } = await proc.waitForLog((l) => l.msg === 'handlers listening', 30_000);
      const stalled = slowRequest(Number(new URL(String(url)).port), { contentLength: 1000, first: '{"id":', path: '/validate-order' });
      slow.push(stalled);
      const outcome = await Promise.race([stalled.closed, stillOpenAfter(12_000)]);
      expect(outcome).not.toBe('still open');
      expect((outcome as { reply: string }).reply).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });

  it("a kept-alive connection idle past the deadline still serves the next delivery (the dispatcher's socket reuse)", async () => {
    server = await serveHandlers([echo], { ...serveOptions(), port: 0, bodyTimeoutMs: BODY_TIMEOUT_MS });
    const socket = connect(server.port, '127.0.0.1');
    let reply = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('utf8')));
    socket.on('close', () => (closed = true));
    slow.push({ socket, closed: Promise.resolve({ reply: '', afterMs: 0 }), stop: () => socket.destroy() });
    const send = (thingId: string) => {
      const delivery = signed(domainEvent('thing.happened', { thingId }), { secret });
      const head = Object.entries(delivery.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}content-length: ${Buffer.byteLength(delivery.body)}\r\n\r\n${delivery.body}`);
    };
    send('first');
    await waitFor(() => reply.includes('"outcome":"first"'), 'the first answer', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2.5 * BODY_TIMEOUT_MS));
    expect(closed).toBe(false);
    send('second');
    await waitFor(() => reply.includes('"outcome":"second"'), 'the second answer on the same connection', 10_000);
  });

  it('a delivery that completes its body in time is not cut by the deadline', async () => {
    server = await serveHandlers([echo], { ...serveOptions(), port: 0, bodyTimeoutMs: BODY_TIMEOUT_MS });
    // A dribbling sender that finishes just inside the deadline is still a valid, if slow, request.
    const delivery = signed(domainEvent('thing.happened', { thingId: 'slow-but-on-time' }), { secret });
    const socket = connect(server.port, '127.0.0.1');
    slow.push({ socket, closed: Promise.resolve({ reply: '', afterMs: 0 }), stop: () => socket.destroy() });
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('utf8')));
    const head = Object.entries(delivery.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const body = Buffer.from(delivery.body);
    socket.write(`POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}content-length: ${body.byteLength}\r\n\r\n`);
    socket.write(body.subarray(0, 10));
    await new Promise((resolve) => setTimeout(resolve, BODY_TIMEOUT_MS / 4));
    socket.write(body.subarray(10));
    await waitFor(() => reply.includes('\r\n\r\n') && reply.includes('}'), 'the answer', 10_000);
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).toContain('"outcome":"slow-but-on-time"');
  });
});
