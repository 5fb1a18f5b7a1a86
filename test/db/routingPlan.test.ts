/**
 * Routing stays inlinable: threefactor.trigger_matches, the one definition
 * of matching, is a SQL function PostgreSQL inlines into the query that
 * calls it only while its body has no subquery. Called instead of inlined,
 * each (event, trigger) pair costs a run of the SQL-function executor on
 * every insert into the log (drizzle/engine/…_routing_inlined). The plan of
 * the routing join shows which: the function's name in it means a call.
 * Then matching itself, through the inlined body: exact types, prefixes, an
 * engine event (never routed), and an UPDATE capture filtered by the columns
 * that changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  const target = { kind: 'webhook' as const, url: 'http://127.0.0.1:9/unused' };
  await syncTriggers(db.sql, [
    { name: 'exact', match: { kind: 'event', types: ['plan.exact'] }, target, enabled: false },
    { name: 'prefix', match: { kind: 'event', types: ['plan.pre.*'] }, target, enabled: false },
    { name: 'status-changes', match: { kind: 'table', schema: 'public', table: 'plan_rows', update: { columns: ['status'] } }, target, enabled: false },
  ]);
});
afterAll(async () => {
  await db?.drop();
});

const matches = async (event: { type: string; aggregate_type?: string; payload?: unknown }) =>
  (
    await db.sql<{ name: string }[]>`
      select t.name from threefactor.event_triggers as t,
        jsonb_populate_record(null::threefactor.events, ${db.sql.json({ id: '00000000-0000-0000-0000-000000000001', seq: 1, xid: '1', aggregate_type: 'plan', aggregate_id: '1', payload: {}, created_at: new Date().toISOString(), ...event } as never)}) as e
      where threefactor.trigger_matches(t, e) order by t.name`
  ).map((r) => r.name);

describe('routing', () => {
  it('inlines trigger_matches into the routing join (no call of it in the plan)', async () => {
    const plan = await db.sql<{ 'QUERY PLAN': string }[]>`
      explain (verbose, costs off)
      select e.id, t.name from threefactor.events as e join threefactor.event_triggers as t on threefactor.trigger_matches(t, e)`;
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('event_types');
    expect(text).not.toContain('trigger_matches');
  });

  it('matches exact types and prefixes, never an engine event, and an UPDATE only when a listed column changed', async () => {
    expect(await matches({ type: 'plan.exact' })).toEqual(['exact']);
    expect(await matches({ type: 'plan.pre.one' })).toEqual(['prefix']);
    expect(await matches({ type: 'plan.other' })).toEqual([]);
    expect(await matches({ type: 'threefactor.plan.exact' })).toEqual([]);
    const update = (oldStatus: string, newStatus: string, note = 'x') => ({
      type: 'table:public.plan_rows.update',
      aggregate_type: 'table:public.plan_rows',
      payload: { op: 'UPDATE', data: { old: { status: oldStatus, note }, new: { status: newStatus, note: `${note}!` } } },
    });
    expect(await matches(update('placed', 'paid'))).toEqual(['status-changes']);
    expect(await matches(update('paid', 'paid'))).toEqual([]);
  });
});
