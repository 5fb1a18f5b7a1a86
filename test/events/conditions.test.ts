/**
 * Conditional triggers (Hasura #1241) against real PostgreSQL: triggers are
 * synced with syncTriggers, events written through the write path
 * (withEventTransaction) and captured table rows through raw SQL, and what a
 * condition does is read from the deliveries rows routing created: every
 * operator, the logic, changed-from-to, new / old and payload, conditions
 * from Hasura metadata, the one-line errors, a hostile value, re-sync.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggerCondition } from '../../src/engine/events/triggers/condition.js';
import { routingColumns } from '../../src/engine/events/triggers/routing.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { loadTriggersFile } from '../../src/engine/events/triggers/triggersFile.js';
import { parseHasuraMetadataEntries } from '../../src/engine/events/triggers/hasuraMetadata.js';
import { replay } from '../../src/engine/events/admin/replay.js';
import type { JsonObject } from '../../src/engine/db/schema/events.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/hasura-conditions');

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase({ max: 4 });
  await db.sql`create table public.cond_orders (id text primary key, status text, total int, note text)`;
});

afterAll(async () => {
  await db?.drop();
});

const eventTrigger = (name: string, type: string, condition?: TriggerCondition): TriggerDefinition => ({
  name,
  match: { kind: 'event', types: [type] },
  target: { kind: 'webhook', url: 'http://127.0.0.1:9/never' },
  ...(condition ? { condition } : {}),
});

const tableTrigger = (name: string, condition?: TriggerCondition): TriggerDefinition => ({
  name,
  match: { kind: 'table', schema: 'public', table: 'cond_orders', insert: { columns: '*' }, update: { columns: '*' }, delete: { columns: '*' } },
  target: { kind: 'webhook', url: 'http://127.0.0.1:9/never' },
  ...(condition ? { condition } : {}),
});

/** Writes one event per payload, each in its own transaction through the write path; returns their ids in order. */
async function emitPayloads(type: string, payloads: JsonObject[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, payload] of payloads.entries()) {
    ids.push(...(await emitEvents(db, [{ type, aggregateType: 'cond', aggregateId: String(i), payload }])));
  }
  return ids;
}

/** Which of `events` (by index) have a delivery of `trigger`. */
async function routedIndexes(trigger: string, events: readonly string[]): Promise<number[]> {
  const rows = await db.sql<{ event_id: string }[]>`
    select event_id from threefactor.deliveries where trigger_name = ${trigger} and event_id = any(${[...events]}::uuid[])`;
  const routed = new Set(rows.map((r) => r.event_id));
  return events.flatMap((id, i) => (routed.has(id) ? [i] : []));
}

async function deliveryCount(trigger: string): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = ${trigger}`;
  return row!.n;
}

/** Runs the raw SQL writes one by one (each its own transaction, captured) and returns the event each wrote, in order. */
async function captureWrites(writes: ReadonlyArray<(sql: postgres.Sql) => Promise<unknown>>): Promise<string[]> {
  const [start] = await db.sql<{ seq: string }[]>`select coalesce(max(seq), 0)::text as seq from threefactor.events`;
  for (const write of writes) await write(db.sql);
  const rows = await db.sql<{ id: string }[]>`
    select id from threefactor.events where aggregate_type = 'table:public.cond_orders' and seq > ${start!.seq}::bigint order by seq`;
  expect(rows).toHaveLength(writes.length);
  return rows.map((r) => r.id);
}

describe('event triggers: conditions on the payload', () => {
  const payloads: JsonObject[] = [
    /* 0 */ { total: 150, status: 'paid', customer: { tier: 'gold' }, flag: true },
    /* 1 */ { total: 50, status: 'placed', customer: { tier: 'silver' }, flag: false },
    /* 2 */ { total: '150', status: 'Paid', customer: null },
    /* 3 */ {},
    /* 4 */ { total: 100.0, status: 'b' },
  ];
  const all = [0, 1, 2, 3, 4];
  const cases: Array<[name: string, condition: TriggerCondition, routed: number[]]> = [
    ['eq_string', { payload: { status: { _eq: 'paid' } } }, [0]],
    // jsonb equality: a number is never equal to a string of its digits.
    ['eq_number', { payload: { total: { _eq: 150 } } }, [0]],
    ['eq_number_as_string', { payload: { total: { _eq: '150' } } }, [2]],
    ['eq_object', { payload: { customer: { _eq: { tier: 'gold' } } } }, [0]],
    ['eq_boolean', { payload: { flag: { _eq: true } } }, [0]],
    // False on a missing field, as in SQL.
    ['neq', { payload: { status: { _neq: 'paid' } } }, [1, 2, 4]],
    // Numbers numerically; a string field never compares with a number.
    ['gt_number', { payload: { total: { _gt: 100 } } }, [0]],
    ['gte_number', { payload: { total: { _gte: 100 } } }, [0, 4]],
    ['lt_number', { payload: { total: { _lt: 100 } } }, [1]],
    ['lte_number', { payload: { total: { _lte: 100 } } }, [1, 4]],
    // Strings as text, byte order ('P' < 'a' < 'b' < 'p').
    ['gt_string', { payload: { status: { _gt: 'a' } } }, [0, 1, 4]],
    ['lt_string', { payload: { status: { _lt: 'b' } } }, [2]],
    ['in', { payload: { status: { _in: ['paid', 'b'] } } }, [0, 4]],
    ['in_mixed_types', { payload: { total: { _in: [150, 'nope'] } } }, [0]],
    ['in_empty', { payload: { status: { _in: [] } } }, []],
    ['nin', { payload: { status: { _nin: ['paid', 'b'] } } }, [1, 2]],
    ['is_null', { payload: { customer: { _is_null: true } } }, [2, 3, 4]],
    ['is_not_null', { payload: { customer: { _is_null: false } } }, [0, 1]],
    ['nested_field', { payload: { customer: { tier: { _eq: 'gold' } } } }, [0]],
    ['two_operators', { payload: { total: { _gt: 40, _lt: 120 } } }, [1, 4]],
    ['two_fields', { payload: { total: { _gte: 100 }, status: { _eq: 'b' } } }, [4]],
    ['and', { _and: [{ payload: { total: { _gte: 100 } } }, { payload: { status: { _eq: 'b' } } }] }, [4]],
    ['or', { _or: [{ payload: { status: { _eq: 'placed' } } }, { payload: { total: { _eq: '150' } } }] }, [1, 2]],
    // Two-valued: _not of a comparison that is false on a missing field is true.
    ['not', { _not: { payload: { status: { _eq: 'paid' } } } }, [1, 2, 3, 4]],
    ['or_on_a_field', { payload: { status: { _or: [{ _eq: 'paid' }, { _eq: 'placed' }] } } }, [0, 1]],
    ['not_inside_payload', { payload: { _not: { customer: { _is_null: true } } } }, [0, 1]],
    ['empty_and', { _and: [] }, all],
    ['empty_or', { _or: [] }, []],
    ['empty', {}, all],
  ];

  let events: string[];
  beforeAll(async () => {
    await syncTriggers(db.sql, [eventTrigger('ev_plain', 'cond.op'), ...cases.map(([name, condition]) => eventTrigger(`ev_${name}`, 'cond.op', condition))]);
    events = await emitPayloads('cond.op', payloads);
  });

  it('routes a trigger without a condition every matching event', async () => {
    expect(await routedIndexes('ev_plain', events)).toEqual(all);
  });

  it.each(cases)('%s', async (name, _condition, routed) => {
    expect(await routedIndexes(`ev_${name}`, events)).toEqual(routed);
  });

  it('creates no delivery row for an event its condition refuses', async () => {
    await syncTriggers(db.sql, [eventTrigger('ev_counted', 'cond.count', { payload: { status: { _eq: 'paid' } } })]);
    const refused = await emitPayloads('cond.count', [{ status: 'placed' }, { status: 'PAID' }, {}]);
    const [none] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where event_id = any(${refused}::uuid[])`;
    expect(none!.n).toBe(0);
    expect(await deliveryCount('ev_counted')).toBe(0);
    await emitPayloads('cond.count', [{ status: 'paid' }]);
    expect(await deliveryCount('ev_counted')).toBe(1);
  });
});

describe('table triggers: conditions on new and old', () => {
  const triggers: Array<[name: string, condition: TriggerCondition]> = [
    ['tb_new_paid', { new: { status: { _eq: 'paid' } } }],
    ['tb_old_paid', { old: { status: { _eq: 'paid' } } }],
    // Hasura style: old and new combined.
    ['tb_became_paid', { _and: [{ old: { status: { _neq: 'paid' } } }, { new: { status: { _eq: 'paid' } } }] }],
    ['tb_placed_to_paid', { new: { status: { _changed: { from: 'placed', to: 'paid' } } } }],
    ['tb_to_paid', { new: { status: { _changed: { to: 'paid' } } } }],
    ['tb_from_paid', { new: { status: { _changed: { from: 'paid' } } } }],
    ['tb_total_changed', { new: { total: { _changed: true } } }],
    ['tb_total_unchanged', { new: { total: { _changed: false } } }],
    ['tb_big_and_paid', { new: { total: { _gte: 20 }, status: { _changed: true, _eq: 'paid' } } }],
  ];
  const writes = [
    /* 0 */ (sql: postgres.Sql) => sql`insert into cond_orders values ('o1', 'placed', 10)`,
    /* 1 */ (sql: postgres.Sql) => sql`update cond_orders set status = 'paid' where id = 'o1'`,
    /* 2 */ (sql: postgres.Sql) => sql`update cond_orders set total = 20 where id = 'o1'`,
    /* 3 */ (sql: postgres.Sql) => sql`update cond_orders set status = 'refunded' where id = 'o1'`,
    /* 4 */ (sql: postgres.Sql) => sql`delete from cond_orders where id = 'o1'`,
    /* 5 */ (sql: postgres.Sql) => sql`insert into cond_orders values ('o2', 'paid', 5)`,
    /* 6 */ (sql: postgres.Sql) => sql`delete from cond_orders where id = 'o2'`,
    /* 7 */ (sql: postgres.Sql) => sql`insert into cond_orders values ('o3', null, 30)`,
    /* 8 */ (sql: postgres.Sql) => sql`update cond_orders set status = 'paid' where id = 'o3'`,
  ];
  const expected: Record<string, number[]> = {
    tb_plain: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    tb_new_paid: [1, 2, 5, 8],
    tb_old_paid: [2, 3, 6],
    // An INSERT has no old row: old.status is missing, and _neq is false on it.
    tb_became_paid: [1],
    tb_placed_to_paid: [1],
    // On INSERT every non-null field changed from absent; a null status (7) is absent too.
    tb_to_paid: [1, 5, 8],
    tb_from_paid: [3, 6],
    tb_total_changed: [0, 2, 4, 5, 6, 7],
    tb_total_unchanged: [1, 3, 8],
    tb_big_and_paid: [8],
  };

  let events: string[];
  beforeAll(async () => {
    await syncTriggers(db.sql, [tableTrigger('tb_plain'), ...triggers.map(([name, condition]) => tableTrigger(name, condition))]);
    events = await captureWrites(writes);
  });

  it.each(Object.entries(expected))('%s', async (name, routed) => {
    expect(await routedIndexes(name, events)).toEqual(routed);
  });

  it('sees the whole row, not only the webhook payload columns', async () => {
    const narrow: TriggerDefinition = {
      ...tableTrigger('tb_narrow_payload', { new: { total: { _gt: 1000 } } }),
      match: { kind: 'table', schema: 'public', table: 'cond_orders', insert: { columns: '*', payload: ['id'] } },
    };
    await syncTriggers(db.sql, [narrow]);
    const ids = await captureWrites([(sql) => sql`insert into cond_orders values ('n1', 'x', 5000)`, (sql) => sql`insert into cond_orders values ('n2', 'x', 5)`]);
    expect(await routedIndexes('tb_narrow_payload', ids)).toEqual([0]);
  });
});

describe('conditions from Hasura metadata (the threefactor object)', () => {
  it('load, sync and route like conditions declared in code', async () => {
    const loaded = await loadTriggersFile(FIXTURE, { source: 'default' });
    const definitions = loaded.triggers.map((t) => t.definition);
    const paid = definitions.find((d) => d.name === 'meta_order_paid')!;
    expect(paid.condition).toEqual({ _and: [{ new: { status: { _eq: 'paid' } } }, { old: { status: { _neq: 'paid' } } }] });
    await syncTriggers(db.sql, definitions);
    const ids = await captureWrites([
      /* 0 */ (sql) => sql`insert into cond_orders values ('m1', 'placed', 150)`,
      /* 1 */ (sql) => sql`update cond_orders set status = 'paid' where id = 'm1'`,
      /* 2 */ (sql) => sql`update cond_orders set total = 151 where id = 'm1'`,
      /* 3 */ (sql) => sql`insert into cond_orders values ('m2', 'paid', 5)`,
    ]);
    expect(await routedIndexes('meta_order_paid', ids)).toEqual([1]);
    expect(await routedIndexes('meta_order_large', ids)).toEqual([0]);
    expect(await routedIndexes('meta_order_any', ids)).toEqual([0, 1, 2, 3]);
  });

  it('refuses an unknown key inside threefactor, naming the trigger and the key', async () => {
    const entry = (threefactor: unknown) => ({
      type: 'pg_create_event_trigger',
      args: { name: 'odd', table: { schema: 'public', name: 'cond_orders' }, webhook: 'http://127.0.0.1:9/x', insert: { columns: '*' }, threefactor },
    });
    expect(() => parseHasuraMetadataEntries(entry({ concurency: 3 }), 'hooks.json')).toThrow('hooks.json: $ (pg_create_event_trigger "odd"): unknown key threefactor.concurency');
    expect(() => parseHasuraMetadataEntries(entry({ condition: { new: { status: { _like: 'p%' } } } }), 'hooks.json')).toThrow(
      'hooks.json: $ (pg_create_event_trigger "odd"): threefactor.condition: unknown operator "_like" at new.status',
    );
    expect(() => parseHasuraMetadataEntries(entry({ condition: { payload: { total: { _gt: 1 } } } }), 'hooks.json')).toThrow(
      'threefactor.condition: "payload" is only for event triggers',
    );
  });
});

describe('an invalid condition fails at start, in one line naming the trigger', () => {
  const invalid: Array<[definition: TriggerDefinition, message: string]> = [
    [tableTrigger('x', { new: { status: { _foo: 1 } } } as unknown as TriggerCondition), 'event trigger "x": condition: unknown operator "_foo" at new.status'],
    [tableTrigger('x', { payload: { status: { _eq: 1 } } }), 'event trigger "x": condition: "payload" is only for event triggers (a table trigger\'s condition is on "new" or "old")'],
    [eventTrigger('x', 'a', { new: { status: { _eq: 1 } } }), 'event trigger "x": condition: "new" is only for table triggers (an event trigger\'s condition is on "payload")'],
    [eventTrigger('x', 'a', { neu: {} } as unknown as TriggerCondition), 'event trigger "x": condition: unknown key "neu" (expected "payload", "_and", "_or" or "_not")'],
    [eventTrigger('x', 'a', { payload: { total: { _gt: true } } } as unknown as TriggerCondition), 'event trigger "x": condition: _gt needs a number or a string at payload.total'],
    [eventTrigger('x', 'a', { payload: { status: { _eq: null } } }), 'event trigger "x": condition: a value may not be null (use _is_null) at payload.status._eq'],
    [eventTrigger('x', 'a', { payload: { status: { _in: 'paid' } } } as unknown as TriggerCondition), 'event trigger "x": condition: must be a list at payload.status._in'],
    [eventTrigger('x', 'a', { payload: { status: { _eq: 'a', code: { _eq: 1 } } } }), 'event trigger "x": condition: mixes operator "_eq" with field "code" at payload.status'],
    [eventTrigger('x', 'a', { payload: { _eq: 1 } }), 'event trigger "x": condition: operator "_eq" needs a field at payload'],
    [eventTrigger('x', 'a', { payload: { status: 'paid' } } as unknown as TriggerCondition), 'event trigger "x": condition: must be an object of fields or operators at payload.status'],
    [eventTrigger('x', 'a', { _and: [{ payload: { n: { _is_null: 'yes' } } }] } as unknown as TriggerCondition), 'event trigger "x": condition: _is_null must be true or false at _and[0].payload.n'],
    [tableTrigger('x', { old: { status: { _changed: true } } }), 'event trigger "x": condition: _changed is only valid under "new" (it compares old with new) at old.status'],
    [tableTrigger('x', { new: { status: { _changed: { from: 'a', to: 'a' } } } }), 'event trigger "x": condition: _changed has the same "from" and "to": that is no change at new.status'],
    [tableTrigger('x', { new: { status: { _changed: { form: 'a' } } } } as unknown as TriggerCondition), 'event trigger "x": condition: unknown key "form" (expected "from" and/or "to") at new.status._changed'],
    [eventTrigger('x', 'a', { payload: { total: { _lt: Number.POSITIVE_INFINITY } } }), 'event trigger "x": condition: a number must be finite at payload.total._lt'],
    [eventTrigger('x', 'a', { payload: { status: { _eq: 'a\u0000b' } } }), 'event trigger "x": condition: a value may not hold a NUL character or a lone surrogate at payload.status._eq'],
    [eventTrigger('x', 'a', 'paid' as unknown as TriggerCondition), 'event trigger "x": condition: must be an object'],
  ];

  it.each(invalid.map(([definition, message]) => [message, definition] as const))('%s', async (message, definition) => {
    expect(() => routingColumns(definition)).toThrow(message);
    await expect(syncTriggers(db.sql, [definition])).rejects.toThrow(message);
    expect(message).not.toContain('\n');
    const [row] = await db.sql`select 1 from threefactor.event_triggers where name = 'x'`;
    expect(row).toBeUndefined();
  });
});

describe('values and field names cannot inject SQL', () => {
  const hostile = ["'); drop table cond_orders; --", "\\'); drop table cond_orders; --", 'a\\b"c\'d$$e$f$\n\t\u00e9\u{1F600}'];

  it('routes by a hostile value, compares it exactly, and leaves the database as it was', async () => {
    const triggers = hostile.map((value, i) => eventTrigger(`hostile_${i}`, 'cond.hostile', { payload: { [value]: { _eq: value, _in: [value], _gte: value } } }));
    await syncTriggers(db.sql, triggers);
    const events = await emitPayloads('cond.hostile', [...hostile.map((v) => ({ [v]: v })), { [hostile[0]!]: 'other' }]);
    for (const [i] of hostile.entries()) expect(await routedIndexes(`hostile_${i}`, events)).toEqual([i]);
    const [table] = await db.sql<{ ok: boolean }[]>`select to_regclass('public.cond_orders') is not null as ok`;
    expect(table!.ok).toBe(true);
  });

  it('reads the same in a session with standard_conforming_strings off', async () => {
    // A fresh session compiles the function's literals under its own settings.
    const legacy = postgres(urlFor(db.name), { max: 1, onnotice: () => {}, connection: { standard_conforming_strings: 'off', escape_string_warning: 'off' } });
    try {
      const ids = await legacy.begin(async (tx) => {
        const out: string[] = [];
        for (const value of [hostile[1]!, hostile[2]!, 'x']) {
          const [row] = await tx<{ id: string }[]>`
            insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
            values ('cond.hostile', 'cond', 'legacy', jsonb_build_object(${hostile[1]!}::text, ${value}::text, ${hostile[2]!}::text, ${value}::text))
            returning id`;
          out.push(row!.id);
        }
        return out;
      });
      expect(await routedIndexes('hostile_1', ids)).toEqual([0]);
      expect(await routedIndexes('hostile_2', ids)).toEqual([1]);
    } finally {
      await legacy.end();
    }
  });
});

describe('re-sync', () => {
  const conditionSource = async () => {
    const [row] = await db.sql<{ src: string }[]>`select prosrc as src from pg_proc where oid = 'threefactor.trigger_condition(text, threefactor.events)'::regprocedure`;
    return row!.src;
  };

  it('applies a changed condition, writes nothing when unchanged, and drops a removed one', async () => {
    await syncTriggers(db.sql, [eventTrigger('resync', 'cond.resync', { payload: { n: { _eq: 1 } } })]);
    const first = await emitPayloads('cond.resync', [{ n: 1 }, { n: 2 }]);
    expect(await routedIndexes('resync', first)).toEqual([0]);

    const changed = await syncTriggers(db.sql, [eventTrigger('resync', 'cond.resync', { payload: { n: { _eq: 2 } } })]);
    expect(changed).toMatchObject({ changed: ['resync'], conditionsChanged: true });
    const second = await emitPayloads('cond.resync', [{ n: 1 }, { n: 2 }]);
    expect(await routedIndexes('resync', second)).toEqual([1]);

    const source = await conditionSource();
    const again = await syncTriggers(db.sql, [eventTrigger('resync', 'cond.resync', { payload: { n: { _eq: 2 } } })]);
    expect(again).toMatchObject({ changed: [], conditionsChanged: false });
    expect(await conditionSource()).toBe(source);

    const removed = await syncTriggers(db.sql, [eventTrigger('resync', 'cond.resync')]);
    expect(removed).toMatchObject({ changed: ['resync'], conditionsChanged: true });
    expect(await conditionSource()).not.toContain("'resync'");
    const [row] = await db.sql<{ has_condition: boolean }[]>`select has_condition from threefactor.event_triggers where name = 'resync'`;
    expect(row!.has_condition).toBe(false);
    const third = await emitPayloads('cond.resync', [{ n: 1 }, { n: 2 }]);
    expect(await routedIndexes('resync', third)).toEqual([0, 1]);
  });

  it('keeps the conditions of stored triggers this process does not declare', async () => {
    await syncTriggers(db.sql, [eventTrigger('kept_a', 'cond.kept', { payload: { n: { _eq: 1 } } })]);
    await syncTriggers(db.sql, [eventTrigger('kept_b', 'cond.kept', { payload: { n: { _eq: 2 } } })]);
    const ids = await emitPayloads('cond.kept', [{ n: 1 }, { n: 2 }]);
    expect(await routedIndexes('kept_a', ids)).toEqual([0]);
    expect(await routedIndexes('kept_b', ids)).toEqual([1]);
  });

  it('fails on a stored condition this version cannot read, naming the trigger, and changes nothing', async () => {
    const definition = { ...eventTrigger('from_newer', 'cond.newer'), condition: { payload: { n: { _regex: 'x' } } } };
    await db.sql`
      insert into threefactor.event_triggers (name, definition, match_kind, event_types, max_attempts, has_condition)
      values ('from_newer', ${JSON.stringify(definition)}::text::jsonb, 'event', '{cond.newer}', 1, true)`;
    try {
      const before = await conditionSource();
      await expect(syncTriggers(db.sql, [eventTrigger('other', 'cond.newer', { payload: { n: { _eq: 1 } } })])).rejects.toThrow(
        'event trigger "from_newer" (stored, not declared by this process): condition: unknown operator "_regex" at payload.n',
      );
      expect(await conditionSource()).toBe(before);
      const [other] = await db.sql`select 1 from threefactor.event_triggers where name = 'other'`;
      expect(other).toBeUndefined();
    } finally {
      await db.sql`delete from threefactor.event_triggers where name = 'from_newer'`;
    }
  });

  it('replay follows the condition, like live routing', async () => {
    await syncTriggers(db.sql, [eventTrigger('replayed', 'cond.replay')]);
    const ids = await emitPayloads('cond.replay', [{ n: 1 }, { n: 2 }]);
    await db.sql`delete from threefactor.deliveries where trigger_name = 'replayed'`;
    await syncTriggers(db.sql, [eventTrigger('replayed', 'cond.replay', { payload: { n: { _eq: 2 } } })]);
    await replay(db, { trigger: 'replayed' });
    expect(await routedIndexes('replayed', ids)).toEqual([1]);
  });
});
