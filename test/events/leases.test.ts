/**
 * Lease statements against real PostgreSQL: the heartbeat extends only this
 * dispatcher's running deliveries and never waits on a row another statement
 * has locked (it used to, and could deadlock with the dispatcher's own
 * completion write).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/engine/events/sql/claimDeliveries.js';
import { extendLeases } from '../../src/engine/events/sql/extendLeases.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitMany } from '../support/events.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  await syncTriggers(db.sql, [{ name: 'leased', match: { kind: 'event', types: ['lease.x'] }, target: { kind: 'inProcess', handler: 'h' } }]);
});
afterAll(async () => db.drop());

const leaseLeftMs = async (id: string) => {
  const [row] = await db.sql<{ ms: number }[]>`select extract(epoch from locked_until - now()) * 1000 as ms from threefactor.deliveries where id = ${id}`;
  return Number(row!.ms);
};

describe('lease heartbeat', () => {
  it('extends its own leases, skipping a row locked by another statement instead of waiting for it', async () => {
    await emitMany(db, 'lease.x', 3);
    const claimed = await claimDeliveries(db.sql, { dispatcherId: 'd1', triggers: [{ trigger: 'leased', limit: 2 }], total: 2, leaseMs: 1_000 });
    const other = await claimDeliveries(db.sql, { dispatcherId: 'd2', triggers: [{ trigger: 'leased', limit: 1 }], total: 1, leaseMs: 1_000 });
    expect(claimed).toHaveLength(2);
    const [locked, free] = claimed.map((d) => d.id) as [string, string];

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let lockTaken!: () => void;
    const taken = new Promise<void>((resolve) => (lockTaken = resolve));
    const tx = db.sql.begin(async (t) => {
      await t`select 1 from threefactor.deliveries where id = ${locked} for update`;
      lockTaken();
      await held;
    });
    await taken;
    try {
      // Another dispatcher's delivery is not ours to extend; the locked one is skipped, not waited for.
      expect(await extendLeases(db.sql, 'd1', [locked, free, other[0]!.id], 60_000)).toBe(1);
      expect(await leaseLeftMs(free)).toBeGreaterThan(30_000);
      expect(await leaseLeftMs(locked)).toBeLessThan(1_000);
      expect(await leaseLeftMs(other[0]!.id)).toBeLessThan(1_000);
    } finally {
      release();
      await tx;
    }
    expect(await extendLeases(db.sql, 'd1', [locked, free], 60_000)).toBe(2);
  });
});
