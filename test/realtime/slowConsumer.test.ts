/**
 * Slow consumers: a client that stops reading its socket must not grow the
 * server's memory. Live state coalesces to the newest value per subscriber;
 * a stream closes over its bound with SLOW_CONSUMER and the cursor to resume
 * from, and resuming from it delivers the rest exactly once.
 */
import { describe, expect, it } from 'vitest';
import { slowConsumers } from '../../src/engine/realtime/metrics.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { useTestApi } from '../support/useTestApi.js';
import { placeNapoliOrder, type Tokens } from '../support/orders.js';
import { rawWsClient, wsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const BOUND = 50;
const WAVES = 100;
const TOTAL = WAVES * 10;

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;

useTestApi({ seed: true, overrides: { SUBSCRIPTION_BUFFER: String(BOUND) } }, (env) => ({ db, api, tokens } = env));

interface Message {
  id?: string;
  type: string;
  payload?: { data?: Record<string, Record<string, unknown>> | null; errors?: Array<{ extensions?: Record<string, unknown> }> };
}

/** A raw client, so the test can stop reading its socket. */
const rawClient = (token: string) => rawWsClient<Message>(api.url, token);

/** Sample the server's buffered items until stopped; returns the maximum seen. */
function sampleBuffered() {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, api.api.realtime.stats().buffered);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return max;
  };
}

const coalesced = async () => (await slowConsumers.get()).values.find((v) => v.labels.action === 'coalesced')?.value ?? 0;

describe('live state for a client that stops reading', () => {
  it('keeps at most one pending state per subscription and ends on the newest', async () => {
    const order = await placeNapoliOrder(api, tokens.alice);
    const client = await rawClient(tokens.alice);
    const SUBS = 100;
    const query = 'subscription($id: ID!) { order(id: $id) { id version statusReason } }';
    for (let i = 0; i < SUBS; i++) client.subscribe(`s${i}`, query, { id: order.id });
    await waitFor(() => client.messages.filter((m) => m.type === 'next').length === SUBS, 'initial states');
    client.socket.pause();

    const coalescedBefore = await coalesced();
    const stop = sampleBuffered();
    // 100 changes, each message ~4 KB × 100 subscriptions: far more than the socket buffers hold.
    const padding = 'x'.repeat(4_000);
    for (let i = 0; i < 100; i++) {
      await db.sql.begin(async (tx) => {
        const [row] = await tx<{ version: number }[]>`
          update orders set version = version + 1, status_reason = ${padding} where id = ${order.id} returning version`;
        await tx`insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
          values ('order.touched', 'order', ${order.id}, ${tx.json({ orderId: order.id, version: row!.version })})`;
      });
    }
    const finalVersion = order.version + 100;
    // Let the hub and the feed catch up while the client still does not read.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const maxBuffered = await stop();
    // Identical subscriptions: the first runs solo, the other 99 share one execution; each holds at most one state.
    expect(api.api.ws.sharing()).toEqual({ groups: 1, subscribers: SUBS - 1, solo: 1 });
    expect(maxBuffered).toBeLessThanOrEqual(SUBS + 1);
    expect(await coalesced()).toBeGreaterThan(coalescedBefore);

    client.socket.resume();
    for (let i = 0; i < SUBS; i++) {
      await waitFor(() => client.of(`s${i}`).some((m) => m.payload?.data?.order?.version === finalVersion), `s${i} at the final version`);
    }
    for (let i = 0; i < SUBS; i++) {
      const versions = client.of(`s${i}`).map((m) => m.payload!.data!.order!.version as number);
      expect(versions.at(-1)).toBe(finalVersion);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    }
    // Coalesced: far fewer messages than changes × subscriptions reached the client.
    expect(client.messages.filter((m) => m.type === 'next').length).toBeLessThan(SUBS * 101);
    client.socket.close();
  });
});

describe('an event stream over its bound', () => {
  it('closes with SLOW_CONSUMER and the cursor to resume from; resuming delivers the rest exactly once', async () => {
    const admin = await api.token('admin', 'ops');
    const client = await rawClient(admin);
    client.subscribe('e', 'subscription { events(filter: { aggregateId: "flood" }) { cursor id payload } }');
    await waitFor(() => api.api.realtime.hub.stats().listeners === 1, 'stream registered');
    client.socket.pause();

    const stop = sampleBuffered();
    // Waves of 10 (each within the bound), 16 KB apiece: the socket buffers fill, then the queue.
    const padding = 'y'.repeat(16_000);
    for (let t = 0; t < WAVES; t++) {
      await db.sql`
        insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
        select 'flood.wave', 'test', 'flood', jsonb_build_object('n', ${t} * 10 + g, 'padding', ${padding}::text)
        from generate_series(1, 10) g`;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stop()).toBeLessThanOrEqual(BOUND);
    client.socket.resume();

    await waitFor(() => client.of('e').some((m) => m.type === 'complete'), 'the stream to end');
    const nexts = client.of('e').filter((m) => m.type === 'next');
    const received = nexts.flatMap((m) => (m.payload?.data ? [m.payload.data.events as { cursor: string; id: string }] : []));
    const failure = nexts.at(-1)!.payload!.errors![0]!;
    expect(failure.extensions?.code).toBe('SLOW_CONSUMER');
    expect(received.length).toBeLessThan(TOTAL);
    if (received.length) expect(failure.extensions?.cursor).toBe(received.at(-1)!.cursor);
    client.socket.close();

    const resumed = wsSession(api.url, admin);
    const rest = resumed.subscribe<{ events: { cursor: string; id: string } }>(
      'subscription($after: String) { events(after: $after, filter: { aggregateId: "flood" }) { cursor id } }',
      { after: failure.extensions?.cursor },
    );
    await rest.untilCount(TOTAL - received.length, 20_000);
    const log = await db.sql<{ id: string }[]>`select id from threefactor.events where aggregate_id = 'flood' order by xid, seq`;
    expect([...received, ...rest.data.map((d) => d.events)].map((e) => e.id)).toEqual(log.map((r) => r.id));
    expect(rest.results.some((r) => r.errors)).toBe(false);
    await resumed.dispose();
  });
});
