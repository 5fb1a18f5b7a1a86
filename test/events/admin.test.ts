/**
 * The operations the admin API builds on, at the function level, against a
 * running dispatcher: pause/resume, redeliver, manual invocation, replay;
 * plus the outcome hook metrics attach to.
 */
import { describe, expect, it } from 'vitest';
import { invokeManual, pauseTrigger, redeliver, replay, resumeTrigger } from '../../src/engine/events/admin/index.js';
import type { DeliveryOutcomeKind } from '../../src/engine/dispatcher/dispatcher.js';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import type { TestDatabase } from '../support/db.js';
import { useDispatcher } from '../support/useDispatcher.js';
import { emitEvents } from '../support/events.js';
import { waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;
const outcomes: Array<[string, DeliveryOutcomeKind]> = [];

const hook = (name: string, types: string[], extra: Partial<TriggerDefinition> = {}): TriggerDefinition => ({
  name,
  match: { kind: 'event', types },
  target: { kind: 'webhook', url: `${receiver.url}/${name}` },
  retry: { numRetries: 0 },
  ...extra,
});
const body = (r: { json: unknown }) => r.json as HasuraEventPayload;

useDispatcher(
  () => ({
    pollMs: 100,
    hooks: { onOutcome: (trigger, outcome) => outcomes.push([trigger, outcome]) },
    triggers: [
      hook('pausable', ['p.*']),
      hook('canary', ['canary']),
      hook('fragile', ['f.*']),
      hook('replayer', ['r.*']),
      {
        name: 'manual_orders',
        match: { kind: 'table', schema: 'public', table: 'orders', insert: { columns: '*' }, enableManual: true },
        target: { kind: 'webhook', url: `${receiver.url}/manual` },
      },
      { name: 'no_manual', match: { kind: 'table', schema: 'public', table: 'orders', update: { columns: '*' } }, target: { kind: 'webhook', url: `${receiver.url}/x` } },
    ],
  }),
  (env) => ({ db, receiver } = env),
);

async function statuses(trigger: string): Promise<string[]> {
  const rows = await db.sql<{ status: string }[]>`select status from threefactor.deliveries where trigger_name = ${trigger} order by created_at, id`;
  return rows.map((r) => r.status);
}

describe('pause and resume', () => {
  it('queues deliveries while paused and sends them after resume', async () => {
    expect(await pauseTrigger(db, 'pausable')).toBe(true);
    await emitEvents(db, [1, 2, 3].map((n) => ({ type: 'p.x', aggregateType: 'x', aggregateId: String(n), payload: { n } })));
    // A later event for another trigger gets through: the dispatcher has claimed since, and skipped the paused ones.
    await emitEvents(db, [{ type: 'canary', aggregateType: 'x', aggregateId: 'c', payload: {} }]);
    await waitFor('the canary', () => receiver.forTrigger('canary').length === 1);
    expect(receiver.forTrigger('pausable')).toHaveLength(0);
    expect(await statuses('pausable')).toEqual(['pending', 'pending', 'pending']);

    expect(await resumeTrigger(db, 'pausable')).toBe(true);
    await waitFor('the queued deliveries', () => receiver.forTrigger('pausable').length === 3);
    expect(receiver.forTrigger('pausable').map((r) => body(r).event.data.new!.n).sort()).toEqual([1, 2, 3]);
    expect(await pauseTrigger(db, 'no-such-trigger')).toBe(false);
    expect(await resumeTrigger(db, 'no-such-trigger')).toBe(false);
  });
});

describe('redeliver', () => {
  it('brings a dead delivery back with a fresh retry budget', async () => {
    receiver.respond((r) => ({ status: r.headers['x-threefactor-trigger'] === 'fragile' && receiver.forTrigger('fragile').length === 1 ? 500 : 200 }));
    const [eventId] = await emitEvents(db, [{ type: 'f.x', aggregateType: 'x', aggregateId: '1', payload: {} }]);
    await waitFor('dead', async () => (await statuses('fragile'))[0] === 'dead');
    expect(outcomes).toContainEqual(['fragile', 'dead']);
    const [dead] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where event_id = ${eventId!} and trigger_name = 'fragile'`;

    expect(await redeliver(db, [dead!.id, '00000000-0000-0000-0000-000000000000'])).toEqual([dead!.id]);
    await waitFor('delivered', async () => (await statuses('fragile'))[0] === 'delivered');
    const [row] = await db.sql<{ attempts: number; max_attempts: number }[]>`select attempts, max_attempts from threefactor.deliveries where id = ${dead!.id}`;
    expect(row).toEqual({ attempts: 2, max_attempts: 2 });
    expect(receiver.forTrigger('fragile').map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
    expect(outcomes).toContainEqual(['fragile', 'delivered']);
    receiver.respond(() => ({ status: 200 }));
  });
});

describe('manual invocation', () => {
  it('sends a row to a table trigger with enable_manual as op MANUAL', async () => {
    const row = { id: 'order-1', status: 'placed', total_cents: 1200 };
    const { deliveryId, eventId } = await invokeManual(db, 'manual_orders', row);
    await waitFor('the manual delivery', () => receiver.forTrigger('manual_orders').length === 1);
    const sent = body(receiver.forTrigger('manual_orders')[0]!);
    expect(sent).toMatchObject({ id: eventId, table: { schema: 'public', name: 'orders' }, trigger: { name: 'manual_orders' }, event: { op: 'MANUAL', data: { old: null, new: row } } });
    const [d] = await db.sql<{ source: string; status: string }[]>`select source, status from threefactor.deliveries where id = ${deliveryId}`;
    expect(d!.source).toBe('manual');
    // Only that trigger: the other orders trigger does not get MANUAL events.
    const [others] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where event_id = ${eventId} and id <> ${deliveryId}`;
    expect(others!.n).toBe(0);
  });

  it('refuses a trigger without enable_manual and an unknown one', async () => {
    await expect(invokeManual(db, 'no_manual', { id: 1 })).rejects.toThrow('event trigger "no_manual" does not allow manual invocation (enable_manual)');
    await expect(invokeManual(db, 'nope', { id: 1 })).rejects.toThrow('no event trigger named "nope"');
  });
});

describe('replay', () => {
  it('creates new deliveries for existing events, by type, time and cursor, a page at a time', async () => {
    const ids = await emitEvents(db, [
      { type: 'r.a', aggregateType: 'x', aggregateId: '1', payload: { n: 1 } },
      { type: 'r.b', aggregateType: 'x', aggregateId: '2', payload: { n: 2 } },
      { type: 'r.a', aggregateType: 'x', aggregateId: '3', payload: { n: 3 } },
    ]);
    await waitFor('the live deliveries', () => receiver.forTrigger('replayer').length === 3);

    const byType = await replay(db, { trigger: 'replayer', types: ['r.a'] });
    expect(byType.created).toBe(2);
    await waitFor('the replayed deliveries', () => receiver.forTrigger('replayer').length === 5);
    expect(receiver.forTrigger('replayer').slice(3).map((r) => body(r).id).sort()).toEqual([ids[0], ids[2]].sort());
    const sources = await db.sql<{ source: string; n: number }[]>`
      select source, count(*)::int as n from threefactor.deliveries where trigger_name = 'replayer' group by source order by source`;
    expect(sources).toEqual([{ source: 'event', n: 3 }, { source: 'replay', n: 2 }]);

    // Paging by cursor: one event per page, in log order.
    const page1 = await replay(db, { trigger: 'replayer', limit: 1 });
    const page2 = await replay(db, { trigger: 'replayer', limit: 1, afterCursor: page1.lastCursor! });
    const page3 = await replay(db, { trigger: 'replayer', limit: 5, afterCursor: page2.lastCursor! });
    expect([page1.created, page2.created, page3.created]).toEqual([1, 1, 1]);
    const before = await replay(db, { trigger: 'replayer', beforeCursor: page2.lastCursor! });
    expect(before.created).toBe(1);
    expect(await replay(db, { trigger: 'replayer', from: new Date(Date.now() + 60_000) })).toEqual({ created: 0, lastCursor: null });
    await expect(replay(db, { trigger: 'nope' })).rejects.toThrow('no event trigger named "nope"');
    await expect(replay(db, { trigger: 'replayer', afterCursor: 'garbage' })).rejects.toThrow('invalid cursor "garbage"');
    await waitFor('all replays delivered', () => receiver.forTrigger('replayer').length === 9);
  });
});
