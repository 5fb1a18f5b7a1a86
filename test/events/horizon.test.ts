/**
 * One horizon for the log (src/engine/events/sql/horizon.ts): ordered
 * deliveries wait for the same transactions the realtime hub waits for. A
 * long transaction in ANOTHER database of the server holds neither back; one
 * in this database still holds an ordered delivery until it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { startDispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { claimDeliveries } from '../../src/engine/events/sql/claimDeliveries.js';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let elsewhere: TestDatabase;

const ordered = (name: string, type: string): TriggerDefinition => ({
  name,
  match: { kind: 'event', types: [type] },
  target: { kind: 'inProcess', handler: 'record' },
  orderingKey: 'aggregate',
});

/** `begin; select pg_current_xact_id();` held open on `on` until the returned function ends it. */
async function openTransaction(on: TestDatabase): Promise<() => Promise<void>> {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  let began!: () => void;
  const begun = new Promise<void>((resolve) => (began = resolve));
  const tx = on.sql.begin(async (t) => {
    await t`select pg_current_xact_id()`;
    began();
    await ended;
  });
  await Promise.race([begun, tx]);
  return async () => {
    end();
    await tx;
  };
}

const emitFor = (type: string, key: string, step: number) => emitEvents(db, [{ type, aggregateType: 'thing', aggregateId: key, payload: { step } }]);

beforeAll(async () => {
  db = await freshDatabase();
  elsewhere = await freshDatabase();
  await syncTriggers(db.sql, [ordered('claimed', 'horizon.claim'), ordered('flowing', 'horizon.flow')]);
});
afterAll(async () => {
  await elsewhere?.drop();
  await db?.drop();
});

describe('the horizon of ordered deliveries', () => {
  it('is not held back by a transaction open in another database, and still is by one open in this database', async () => {
    const claim = () => claimDeliveries(db.sql, { dispatcherId: 'horizon', triggers: [{ trigger: 'claimed', limit: 10 }], total: 10, leaseMs: 30_000 });

    const endForeign = await openTransaction(elsewhere);
    try {
      await emitFor('horizon.claim', 'a', 1);
      expect((await claim()).map((d) => d.orderingKey)).toEqual(['thing:a']);
    } finally {
      await endForeign();
    }

    const endLocal = await openTransaction(db);
    try {
      await emitFor('horizon.claim', 'b', 1);
      expect(await claim()).toEqual([]);
    } finally {
      await endLocal();
    }
    expect((await claim()).map((d) => d.orderingKey)).toEqual(['thing:b']);
  });

  it('lets ordered deliveries flow, in order, while a long transaction stays open in another database', async () => {
    const received: number[] = [];
    let dispatcher: Dispatcher | undefined;
    const endForeign = await openTransaction(elsewhere);
    try {
      dispatcher = await startDispatcher({
        database: db,
        log: testLog(),
        webhookSecret: TEST_WEBHOOK_SECRET,
        pollMs: 100,
        inProcessHandlers: {
          record: async (payload: HasuraEventPayload) => {
            if (payload.trigger.name === 'flowing') received.push((payload.event.data.new as { step: number }).step);
          },
        },
      });
      for (const step of [1, 2, 3]) await emitFor('horizon.flow', 'k', step);
      await waitFor(() => received.length === 3, 'three ordered deliveries while the other database’s transaction is open', 10_000);
      expect(received).toEqual([1, 2, 3]);
    } finally {
      await dispatcher?.stop({ deadlineMs: 2_000 });
      await endForeign();
    }
  });
});
