/**
 * Ordering by key: deliveries of one (trigger, key) reach the handler in
 * commit order, one at a time, even when some fail and retry; other keys
 * are not held up; a dead delivery unblocks its successors.
 */
import { describe, expect, it } from 'vitest';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { TestDatabase } from '../support/db.js';
import { useDispatcher } from '../support/useDispatcher.js';
import { emitEvents, emitMany } from '../support/events.js';
import { waitFor, type ReceivedRequest, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;

const data = (r: ReceivedRequest) => (r.json as unknown as HasuraEventPayload).event.data.new as { n?: number; step?: string; event_type: string };
/** What the receiver answered, recorded per request. */
const answered = new Map<ReceivedRequest, number>();

useDispatcher(
  () => ({
    pollMs: 100,
    concurrency: 20,
    triggers: [
      {
        name: 'ordered',
        match: { kind: 'event', types: ['ord.*'] },
        target: { kind: 'webhook', url: `${receiver.url}/ordered` },
        orderingKey: 'aggregate',
        retry: { numRetries: 20, intervalSec: 0.02, maxIntervalSec: 0.1 },
      },
      {
        name: 'by_field',
        match: { kind: 'event', types: ['field.*'] },
        target: { kind: 'webhook', url: `${receiver.url}/by_field` },
        orderingKey: { payloadField: 'customer' },
        retry: { numRetries: 1, intervalSec: 0.05 },
      },
    ],
  }),
  (env) => ({ db, receiver } = env),
);

describe('ordering by key', () => {
  it('delivers each key in commit order through failures and retries, while keys run in parallel', async () => {
    // Every third request fails, and answers take a varying time: with 20 slots,
    // anything but per-key serialization would reorder.
    receiver.respond((req, nth) => {
      const status = nth % 3 === 0 ? 500 : 200;
      answered.set(req, status);
      return { status, delayMs: (nth * 7) % 13 };
    });
    await emitMany(db, 'ord.step', 120, 6);
    await waitFor('120 ordered deliveries', async () => {
      const [r] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'ordered' and status = 'delivered'`;
      return r!.n === 120;
    }, 30_000);

    const requests = receiver.forTrigger('ordered');
    expect(requests.some((r) => answered.get(r) === 500)).toBe(true);
    const byKey = new Map<string, ReceivedRequest[]>();
    for (const r of requests) {
      const key = `a${data(r).n! % 6}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    expect(byKey.size).toBe(6);
    for (const [key, list] of byKey) {
      // The sequence of events sent for this key never goes back: each is
      // repeated until it succeeds, and only then does the next one go.
      const sent = list.map((r) => data(r).n!);
      for (let i = 1; i < sent.length; i++) {
        if (sent[i] !== sent[i - 1]) {
          expect(sent[i], `key ${key}: ${sent.join(',')}`).toBeGreaterThan(sent[i - 1]!);
          expect(answered.get(list[i - 1]!), `key ${key}: moved on after a failure`).toBe(200);
        }
      }
      expect(new Set(sent).size).toBe(20);
    }
  });

  it('does not hold other keys behind a failing one; a dead delivery unblocks its successors', async () => {
    // c1's first attempt is held open until d1 arrives (5 s at most): d1 can only
    // arrive meanwhile if key d is not queued behind key c, whatever the timing.
    let d1Arrived = () => {};
    const d1Seen = new Promise<void>((resolve) => (d1Arrived = resolve));
    receiver.respond(async (req) => {
      const d = data(req);
      if (d.step === 'd1') d1Arrived();
      if (d.step !== 'c1') return { status: 200 };
      await Promise.race([d1Seen, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      return { status: 500 };
    });
    await emitEvents(db, [{ type: 'field.a', aggregateType: 'x', aggregateId: '1', payload: { customer: 'c', step: 'c1' } }]);
    await emitEvents(db, [{ type: 'field.a', aggregateType: 'x', aggregateId: '2', payload: { customer: 'c', step: 'c2' } }]);
    await emitEvents(db, [{ type: 'field.a', aggregateType: 'x', aggregateId: '3', payload: { customer: 'd', step: 'd1' } }]);
    await waitFor('c2 and d1 delivered', async () => {
      const [r] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'by_field' and status = 'delivered'`;
      return r!.n === 2;
    });
    const steps = receiver.forTrigger('by_field').map((r) => data(r).step);
    // c1 failed twice (dead after its last attempt) before c2 went; d1 did not wait for c.
    expect(steps.filter((s) => s === 'c1')).toHaveLength(2);
    expect(steps.lastIndexOf('c1')).toBeLessThan(steps.indexOf('c2'));
    expect(steps.indexOf('d1')).toBeLessThan(steps.indexOf('c2'));
    const rows = await db.sql<{ step: string; status: string; ordering_key: string }[]>`
      select e.payload ->> 'step' as step, d.status, d.ordering_key
      from threefactor.deliveries as d join threefactor.events as e on e.id = d.event_id
      where d.trigger_name = 'by_field' order by e.seq`;
    expect(rows).toEqual([
      { step: 'c1', status: 'dead', ordering_key: 'c' },
      { step: 'c2', status: 'delivered', ordering_key: 'c' },
      { step: 'd1', status: 'delivered', ordering_key: 'd' },
    ]);
  });
});
