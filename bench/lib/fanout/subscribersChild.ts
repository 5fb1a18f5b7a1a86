/**
 * Benchmark child: N subscribers, each on its own WebSocket. For threefactor
 * they speak the graphql-ws protocol (one `order(id)` or one
 * `restaurantOrders` subscription each); for the baseline they are plain
 * `ws` clients. While recording, every arrival is stamped with its key and
 * the index of the client it reached (coalescing is judged per client).
 *
 * Each socket subscribes with its own id, as real clients do (graphql-ws
 * clients number or randomise theirs), of varying length: a server that
 * shares one serialized result across sockets must splice each socket's id
 * into its frame, and a frame carrying another id is counted (`wrongIds`).
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { mintToken } from '../../../src/engine/server/auth.js';
import { onParent, toParent } from '../child.js';
import { coresUsed, cpuSample, type CpuSample } from '../cpu.js';
import { now, type SubscriberSpec, type SubscribersIn, type SubscribersOut } from './protocol.js';

const send = (m: SubscribersOut) => toParent<SubscribersOut>(m);

const ORDER = 'subscription Watch($id: ID!) { order(id: $id) { id status version updatedAt } }';
const FEED = 'subscription Feed { restaurantOrders { id status version updatedAt } }';

let recording = false;
let recordingFrom: CpuSample | undefined;
const arrivals = new Map<string, { times: number[]; clients: number[] }>();
let messages = 0;
let errors = 0;
let wrongIds = 0;
let firstError: string | undefined;
/** Sizes of the `next` frames received while connecting (before any recording). */
let frameBytes = 0;
let frames = 0;
const closers: Array<() => void> = [];

function arrived(key: string, client: number): void {
  messages++;
  if (!recording) return;
  const t = now();
  let got = arrivals.get(key);
  if (!got) arrivals.set(key, (got = { times: [], clients: [] }));
  got.times.push(t);
  got.clients.push(client);
}

function measured(text: string): void {
  if (recording) return;
  frameBytes += Buffer.byteLength(text);
  frames++;
}

/** A subscription id of 2 to about 24 characters, unique per socket: a counter, then random base64url. */
function subscriptionId(client: number): string {
  return `${client.toString(36)}${randomBytes(client % 17).toString('base64url')}`;
}

function failed(what: unknown): void {
  errors++;
  firstError ??= what instanceof Error ? what.message : JSON.stringify(what).slice(0, 300);
}

type Order = { id: string; version: number };
interface ProtocolMessage {
  type: string;
  id?: string;
  payload?: { data?: Record<string, Order | undefined> | null; errors?: unknown };
}

/**
 * One subscriber speaking graphql-transport-ws (the graphql-ws protocol) directly on a `ws`
 * socket: the client does what the baseline's clients do per message (one JSON.parse), so the
 * load generator's own cost is the same on both sides and does not bound the measurement.
 */
async function graphqlSubscriber(url: string, secret: string, spec: Exclude<SubscriberSpec, { kind: 'plain' }>, client: number): Promise<void> {
  const id = subscriptionId(client);
  const token =
    spec.kind === 'order'
      ? await mintToken(secret, { role: 'customer', sub: spec.customerId })
      : await mintToken(secret, { role: 'restaurant', sub: spec.restaurantId });
  const field = spec.kind === 'order' ? 'order' : 'restaurantOrders';
  const payload = spec.kind === 'order' ? { query: ORDER, variables: { id: spec.orderId } } : { query: FEED };
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise<void>((resolve, reject) => {
    let ready = false;
    const settle = (err?: Error) => {
      if (ready) return;
      ready = true;
      if (err) reject(err);
      else resolve();
    };
    socket.once('error', (err) => settle(err));
    socket.once('close', (code, reason) => settle(new Error(`closed ${code} ${String(reason)}`)));
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const text = String(data);
      const message = JSON.parse(text) as ProtocolMessage;
      if (message.type === 'next') {
        measured(text);
        if (message.id !== id) {
          wrongIds++;
          return failed(`a next frame for subscription ${JSON.stringify(message.id)} on the socket of ${JSON.stringify(id)}`);
        }
        if (message.payload?.errors) return failed(message.payload.errors);
        const order = message.payload?.data?.[field];
        if (order) arrived(`${order.id}:${order.version}`, client);
        settle();
      } else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
        // A feed sends nothing until a change: connected once subscribed (the parent then waits on the API's gauge).
        if (spec.kind === 'restaurant') settle();
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'error' || message.type === 'complete') {
        failed(message);
        settle(new Error(text.slice(0, 300)));
      }
    });
  });
  closers.push(() => socket.terminate());
}

async function plainSubscriber(url: string, client: number): Promise<void> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('message', (data) => {
    const text = String(data);
    measured(text);
    arrived((JSON.parse(text) as { k: string }).k, client);
  });
  closers.push(() => socket.terminate());
}

onParent<SubscribersIn>(async (message) => {
  if (message.type === 'connect') {
    const started = now();
    let connected = 0;
    let failures = 0;
    let firstFailure: string | undefined;
    let next = 0;
    const worker = async () => {
      while (next < message.subscribers.length) {
        const client = next++;
        const spec = message.subscribers[client]!;
        try {
          if (spec.kind === 'plain') await plainSubscriber(message.url, client);
          else await graphqlSubscriber(message.url, message.secret, spec, client);
          connected++;
        } catch (err) {
          failures++;
          firstFailure ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: message.parallel }, worker));
    send({ type: 'connected', connected, failed: failures, firstFailure, ms: now() - started, messageBytes: frames ? frameBytes / frames : 0 });
  }
  if (message.type === 'record') {
    recording = message.on;
    if (message.on) {
      arrivals.clear();
      recordingFrom = cpuSample();
    }
    send({ type: 'recording' });
  }
  if (message.type === 'collect') {
    const clientCores = recordingFrom ? coresUsed(recordingFrom, cpuSample()) : Number.NaN;
    send({
      type: 'collected',
      arrivals: [...arrivals].map(([key, got]) => [key, Float64Array.from(got.times), Uint32Array.from(got.clients)]),
      messages,
      errors,
      wrongIds,
      firstError,
      clientCores,
    });
  }
  if (message.type === 'close') {
    for (const close of closers.splice(0)) close();
    send({ type: 'closed' });
    setTimeout(() => process.exit(0), 200);
  }
});
