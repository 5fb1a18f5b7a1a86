/**
 * Every admin field refuses every other role with FORBIDDEN (and anonymous
 * callers with 401), and changes nothing. The list of admin fields is read
 * from the schema, so a new admin field without a case here fails the test.
 * Admin writes leave a JSON audit line naming who did them.
 */
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import type { Role } from '../../src/engine/graphql/context.js';
import { loadApp } from '../../src/cli/apps.js';
import { buildSchema } from '../../src/engine/graphql/schema.js';
import { createApi } from '../../src/engine/server/api.js';
import { startTestApi, testConfig, TEST_SECRET, type TestApi } from '../support/api.js';
import { recordedTrigger } from '../support/admin.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents } from '../support/events.js';
import { ok, refused } from '../support/orders.js';
import { mintToken } from '../../src/engine/server/auth.js';

let db: TestDatabase;
let api: TestApi;
let eventId: string;
let deliveryId: string;
/** A failed workflow instance: what retryWorkflow takes. */
let instanceId: string;

/** One operation per admin field, keyed "Type.field". */
const operations = (): Record<string, { query: string; variables?: Record<string, unknown> }> => ({
  'Query.events': { query: '{ events { edges { node { id } } } }' },
  'Query.event': { query: 'query($id: ID!) { event(id: $id) { id } }', variables: { id: eventId } },
  'Query.deliveries': { query: '{ deliveries { edges { node { id } } } }' },
  'Query.delivery': { query: 'query($id: ID!) { delivery(id: $id) { id } }', variables: { id: deliveryId } },
  'Query.deliveryAttempts': { query: 'query($id: ID!) { deliveryAttempts(deliveryId: $id) { attempt } }', variables: { id: deliveryId } },
  'Query.eventTriggers': { query: '{ eventTriggers { name } }' },
  'Query.eventTrigger': { query: '{ eventTrigger(name: "authz") { name } }' },
  'Mutation.redeliverDeliveries': { query: 'mutation($ids: [ID!]!) { redeliverDeliveries(ids: $ids) { count } }', variables: { ids: [deliveryId] } },
  'Mutation.redeliverDead': { query: 'mutation { redeliverDead(trigger: "authz") { count } }' },
  'Mutation.replayEvents': { query: 'mutation { replayEvents(trigger: "authz") { count } }' },
  'Mutation.invokeTrigger': { query: 'mutation { invokeTrigger(trigger: "authz-manual", row: { id: "1" }) { id } }' },
  'Mutation.pauseTrigger': { query: 'mutation { pauseTrigger(name: "authz") { name } }' },
  'Mutation.resumeTrigger': { query: 'mutation { resumeTrigger(name: "authz") { name } }' },
  'Query.workflowInstances': { query: '{ workflowInstances { edges { node { id } } } }' },
  'Query.workflowInstance': { query: 'query($id: ID!) { workflowInstance(id: $id) { id } }', variables: { id: instanceId } },
  'Query.workflowDefinitions': { query: '{ workflowDefinitions { name } }' },
  'Mutation.retryWorkflow': { query: 'mutation($id: ID!) { retryWorkflow(id: $id) { id status } }', variables: { id: instanceId } },
});

/** What an admin write could change: deliveries, their state, triggers' pause state, events, workflow instances. */
async function state() {
  return db.sql`
    select (select count(*)::int from threefactor.events) as events,
           (select json_agg(json_build_object('id', id, 'status', status, 'ready', ready)) from threefactor.workflow_instances) as workflows,
           (select coalesce(json_agg(json_build_object('id', id, 'status', status, 'run_at', run_at, 'max', max_attempts) order by id), '[]') from threefactor.deliveries) as deliveries,
           (select json_agg(json_build_object('name', name, 'paused', paused) order by name) from threefactor.event_triggers) as triggers`;
}

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  await syncTriggers(db.sql, [
    recordedTrigger('authz', ['authz.*']),
    { name: 'authz-manual', match: { kind: 'table', schema: 'public', table: 'drivers', enableManual: true }, target: { kind: 'inProcess', handler: 'record' } },
  ]);
  [eventId] = (await emitEvents(db, [{ type: 'authz.x', aggregateType: 'thing', aggregateId: '1', payload: {} }])) as [string];
  const [d] = await db.sql<{ id: string }[]>`select id from threefactor.deliveries where event_id = ${eventId}`;
  deliveryId = d!.id;
  // A finished delivery, so a redeliver by anyone would visibly change it.
  await db.sql`update threefactor.deliveries set status = 'dead', attempts = 1 where id = ${deliveryId}`;
  const [w] = await db.sql<{ id: string }[]>`
    insert into threefactor.workflow_instances (workflow, version, key, status, started_by_event, input, finished_at)
    values ('authz', 1, 'k', 'failed', ${eventId}, '{}', now())
    returning id`;
  instanceId = w!.id;
});
afterAll(async () => {
  await api.close();
  await db.drop();
});

describe('admin authorization', () => {
  it('covers every admin field of the schema', () => {
    const schema = buildSchema();
    const adminFields: string[] = [];
    for (const type of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.values(type.getFields())) {
        const scopes = (field.extensions as { pothosOptions?: { authScopes?: { role?: unknown } } }).pothosOptions?.authScopes;
        if (scopes?.role === 'admin') adminFields.push(`${type.name}.${field.name}`);
      }
    }
    expect(adminFields.sort()).toEqual(Object.keys(operations()).sort());
  });

  for (const role of ['customer', 'restaurant', 'driver', 'service'] as Role[]) {
    it(`refuses ${role} with FORBIDDEN on every admin field, changing nothing`, async () => {
      const before = await state();
      const token = await api.token(role, randomUUID());
      for (const [name, op] of Object.entries(operations())) {
        const res = await api.gql(op.query, op.variables, token);
        expect(res.status, name).toBe(200);
        // Nothing resolved: no data, or null for a nullable field.
        expect(Object.values(res.data ?? {}).every((v) => v === null), name).toBe(true);
        expect(refused(res), name).toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(await state()).toEqual(before);
    });
  }

  it('refuses anonymous callers with 401 on every admin field', async () => {
    for (const [name, op] of Object.entries(operations())) {
      const res = await api.gql(op.query, op.variables, null);
      expect(res.status, name).toBe(401);
      expect(res.errors?.[0]?.extensions?.code, name).toBe('UNAUTHENTICATED');
    }
  });

  it('lets an admin through on every admin field', async () => {
    const token = await api.token('admin', 'ops-authz');
    for (const [name, op] of Object.entries(operations())) {
      const res = await api.gql(op.query, op.variables, token);
      expect(res.errors, `${name}: ${JSON.stringify(res.errors)}`).toBeUndefined();
    }
  });
});

describe('admin audit log', () => {
  it('writes one JSON line per admin write, naming the action and who did it', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = testConfig();
    const audited = createApi(config, db, pino({ level: 'info' }, sink), await loadApp(config.APP));
    const { port } = await audited.listen(0, '127.0.0.1');
    try {
      const token = await mintToken(TEST_SECRET, { role: 'admin', sub: 'ops-audit' });
      const call = async (query: string, variables?: Record<string, unknown>) => {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        return ok({ status: res.status, ...((await res.json()) as object) });
      };
      await call('mutation { pauseTrigger(name: "authz") { paused } }');
      await call('mutation { resumeTrigger(name: "authz") { paused } }');
      await call('mutation($ids: [ID!]!) { redeliverDeliveries(ids: $ids) { count } }', { ids: [deliveryId] });
      await call('{ eventTriggers { name } }');
      const audit = lines.filter((l) => l.audit === 'admin');
      expect(audit.map((l) => l.action)).toEqual(['pauseTrigger', 'resumeTrigger', 'redeliverDeliveries']);
      for (const l of audit) expect(l.actor).toEqual({ role: 'admin', sub: 'ops-audit' });
      expect(audit[0]).toMatchObject({ trigger: 'authz', level: 30 });
      expect(audit[2]).toMatchObject({ redelivered: [deliveryId], skipped: [] });
      expect(typeof audit[0]!.requestId).toBe('string');
    } finally {
      await audited.drain(1_000);
    }
  });
});
