import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withEventTransaction, type EventContext } from '../../src/engine/events/transaction.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

const ctx = (): EventContext => ({
  session: { 'x-hasura-role': 'admin', 'x-hasura-user-id': 'a1' },
  traceContext: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  eventIds: [],
});

describe('the event log', () => {
  it('records actor, trace and the inserting transaction id with each event', async () => {
    const c = ctx();
    await withEventTransaction(db.db, c, async ({ emit }) => {
      await emit({ type: 't.one', aggregateType: 't', aggregateId: '1', payload: { n: 1 } });
      await emit({ type: 't.two', aggregateType: 't', aggregateId: '1', payload: { n: 2 } });
    });
    expect(c.eventIds).toHaveLength(2);
    const rows = await db.sql<{ id: string; xid: string; session: unknown; trace_context: unknown }[]>`
      select id, xid::text, session, trace_context from threefactor.events where id = any(${c.eventIds}) order by seq`;
    expect(rows.map((r) => r.id)).toEqual(c.eventIds);
    expect(rows[0]!.xid).toBe(rows[1]!.xid);
    expect(rows[0]!.session).toEqual({ 'x-hasura-role': 'admin', 'x-hasura-user-id': 'a1' });
    expect(rows[0]!.trace_context).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  });

  it('reports no event ids when the transaction rolls back, and keeps no rows', async () => {
    const c = ctx();
    await expect(
      withEventTransaction(db.db, c, async ({ emit }) => {
        await emit({ type: 't.rolled', aggregateType: 't', aggregateId: '2', payload: {} });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(c.eventIds).toEqual([]);
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events where type = 't.rolled'`;
    expect(row!.n).toBe(0);
  });

  it('is append-only: UPDATE is refused', async () => {
    await expect(db.sql`update threefactor.events set type = 'rewritten'`).rejects.toThrow(/events are append-only/);
  });

  it('sends one notification per transaction however many events it writes', async () => {
    const received: string[] = [];
    const listener = await db.sql.listen('threefactor_events', (payload) => received.push(payload));
    await withEventTransaction(db.db, ctx(), async ({ emit }) => {
      for (let i = 0; i < 20; i++) await emit({ type: 't.many', aggregateType: 't', aggregateId: String(i), payload: {} });
    });
    // A second, separate transaction: exactly one more.
    await withEventTransaction(db.db, ctx(), ({ emit }) => emit({ type: 't.once', aggregateType: 't', aggregateId: 'x', payload: {} }));
    await new Promise((r) => setTimeout(r, 300));
    await listener.unlisten();
    expect(received).toEqual(['', '']);
  });
});
