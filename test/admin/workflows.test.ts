/**
 * Workflows made visible (issue 15): the admin API (`workflowInstances`,
 * `workflowInstance`, `workflowDefinitions`, `retryWorkflow`) over real HTTP,
 * the live `workflowInstance(id)` subscription over real graphql-ws, and
 * workflow steps in the causal tree (query and subscription), for an admin
 * and for the viewer who caused the root (no payloads).
 *
 * The instance is started by the engine's own events trigger (a real start
 * event matching a stored current definition); its moves are written here
 * the way the runner writes them (a step row, the step's engine event
 * `threefactor.workflow.step` with its delivery, the instance's update and a
 * transition event), so each reader is checked against exact rows, without
 * a runner's timing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionSql } from 'postgres';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { ENGINE_AGGREGATES, ENGINE_EVENTS } from '../../src/engine/events/engineEvents.js';
import { withEventTransaction } from '../../src/engine/events/transaction.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { createLogger } from '../../src/engine/log.js';
import { createApi, type Api } from '../../src/engine/server/api.js';
import { mintToken } from '../../src/engine/server/auth.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { workflowTriggerName } from '../../src/engine/workflows/triggers.js';
import type { StepPayload } from '../../src/kit/contract.js';
import { tasksApp } from '../fixtures/apps/tasks/app.js';
import { TEST_SECRET, testConfig, type GqlResult } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let api: Api;
let url: string;
let admin: string;
let service: string;
let owner: string;
const sessions: WsSession[] = [];

const WORKFLOW = 'wf-visible';
const HANDLER_TRIGGER = workflowTriggerName(WORKFLOW, 1, 'notify');
const OWNER_SESSION = { 'x-hasura-role': 'user', 'x-hasura-user-id': 'u-owner' };

const definition: WorkflowDefinition = {
  name: WORKFLOW,
  version: 1,
  start: { types: ['wfv.started'] },
  steps: [
    { name: 'notify', kind: 'call', handler: 'notify', timeoutSec: 30 },
    { name: 'approval', kind: 'wait', for: { types: ['wfv.approved'] }, failOn: { types: ['wfv.declined', 'wfv.cancel.'] }, timeoutSec: 60 },
  ],
  handlers: { notify: { target: { kind: 'inProcess', handler: 'noop' } } },
};

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, token: string | null): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GqlResult<T>, 'status'>) };
}

/** A start event, as a client's write (with the owner's session): the events trigger starts an instance in its transaction. */
async function start(key: string): Promise<{ eventId: string; instanceId: string }> {
  const [eventId] = await emitEvents(db, [{ type: 'wfv.started', aggregateType: 'thing', aggregateId: key, payload: { key, secret: 'start-payload' } }], {
    session: OWNER_SESSION,
  });
  const [row] = await db.sql<{ id: string }[]>`select id from threefactor.workflow_instances where started_by_event = ${eventId!}`;
  expect(row, 'the start event started an instance').toBeDefined();
  return { eventId: eventId!, instanceId: row!.id };
}

/** The engine event the runner appends for a transition (or a step's call, with `id`), on the instance's aggregate. */
async function appendEngineEvent(
  tx: TransactionSql,
  type: string,
  instanceId: string,
  causedBy: string | null,
  id: string = randomUUID(),
  causedByDelivery: string | null = null,
): Promise<string> {
  await tx`
    insert into threefactor.events (id, type, aggregate_type, aggregate_id, payload, caused_by_event, caused_by_delivery)
    values (${id}, ${type}, ${ENGINE_AGGREGATES.workflow}, ${instanceId}, ${tx.json({ instanceId, workflow: WORKFLOW })}, ${causedBy}, ${causedByDelivery})`;
  return id;
}

/**
 * The runner starting call step 0: its history row, its step event and the delivery to the handler's trigger, in
 * one transaction. A call the previous call's completion started names that call's delivery as its cause (`after`).
 */
async function startCall(instanceId: string, causedBy: string, after?: { deliveryId: string }): Promise<{ stepId: string; deliveryId: string }> {
  const stepId = randomUUID();
  const deliveryId = await db.sql.begin(async (tx) => {
    await appendEngineEvent(tx, ENGINE_EVENTS.workflowStep, instanceId, causedBy, stepId, after?.deliveryId ?? null);
    const [d] = await tx<{ id: string }[]>`
      insert into threefactor.deliveries (event_id, trigger_name, max_attempts, event_xid, event_seq)
      select e.id, ${HANDLER_TRIGGER}, 3, e.xid, e.seq from threefactor.events as e where e.id = ${stepId}
      returning id`;
    await tx`
      insert into threefactor.workflow_steps (id, instance_id, step_index, name, kind, phase, handler, delivery_id)
      values (${stepId}, ${instanceId}, 0, 'notify', 'call', 'forward', 'notify', ${d!.id})`;
    await tx`
      update threefactor.workflow_instances
      set ready = false, current_step = ${stepId}, wake_at = now() + interval '30 seconds', updated_at = now()
      where id = ${instanceId}`;
    return d!.id;
  });
  return { stepId, deliveryId };
}

/** The step's delivery delivered, and its handler's write-back (caused by that delivery). */
async function deliverCall(stepId: string, deliveryId: string): Promise<string> {
  await db.sql`update threefactor.deliveries set status = 'delivered', attempts = 1, completed_at = now() where id = ${deliveryId}`;
  const [row] = await db.sql<{ id: string }[]>`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload, caused_by_event, caused_by_delivery)
    values ('wfv.notified', 'thing', 'k', ${db.sql.json({ secret: 'write-back' })}, ${stepId}, ${deliveryId})
    returning id`;
  return row!.id;
}

/** The runner recording the call's result and moving on to the wait step. */
async function enterWait(instanceId: string, stepId: string, key: string): Promise<void> {
  await db.sql.begin(async (tx) => {
    await tx`update threefactor.workflow_steps set status = 'completed', result = ${tx.json({ sent: true })}, finished_at = now() where id = ${stepId}`;
    const [wait] = await tx<{ id: string }[]>`
      insert into threefactor.workflow_steps (instance_id, step_index, name, kind, phase)
      values (${instanceId}, 1, 'approval', 'wait', 'forward')
      returning id`;
    await tx`
      insert into threefactor.workflow_waits (instance_id, key, step_index, step_id, for_types, fail_types, fail_prefixes)
      values (${instanceId}, ${key}, 1, ${wait!.id}, '{wfv.approved}', '{wfv.declined}', '{wfv.cancel.}')`;
    await tx`
      update threefactor.workflow_instances
      set status = 'waiting', step_index = 1, results = ${tx.json({ notify: { sent: true } })}, current_step = ${wait!.id},
          wake_at = now() + interval '60 seconds', updated_at = now()
      where id = ${instanceId}`;
    await appendEngineEvent(tx, ENGINE_EVENTS.workflowWaiting, instanceId, stepId);
  });
}

/** The end of an instance: status (and failure), its timer and wait cleared, and the transition's engine event. */
async function finish(instanceId: string, status: 'completed' | 'failed', failure: Record<string, unknown> | null = null): Promise<void> {
  await db.sql.begin(async (tx) => {
    await tx`update threefactor.workflow_steps set status = ${status === 'completed' ? 'completed' : 'failed'}, finished_at = now() where instance_id = ${instanceId} and status = 'running'`;
    await tx`delete from threefactor.workflow_waits where instance_id = ${instanceId}`;
    await tx`
      update threefactor.workflow_instances
      set status = ${status}, failure = ${failure === null ? null : tx.json(failure as never)}, wake_at = null, ready = false,
          current_step = null, finished_at = now(), updated_at = now()
      where id = ${instanceId}`;
    await appendEngineEvent(tx, status === 'completed' ? ENGINE_EVENTS.workflowCompleted : ENGINE_EVENTS.workflowFailed, instanceId, null);
  });
}

const INSTANCE_FIELDS = `id workflow version key status phase stepIndex currentStepId currentStep currentStepKind startedByEvent
  input results failure { step reason eventId } wakeAt ready finishedAt waiting { key forTypes failTypes }
  history { id stepIndex name kind phase handler status attempt deliveryId deliveryStatus deliveryAttempts result error startedAt finishedAt }`;

interface InstanceView {
  id: string;
  status: string;
  phase: string;
  stepIndex: number;
  currentStepId: string | null;
  currentStep: string | null;
  currentStepKind: string | null;
  startedByEvent: string;
  key: string;
  input: Record<string, unknown>;
  results: Record<string, unknown>;
  failure: { step: string; reason: string; eventId: string | null } | null;
  wakeAt: string | null;
  ready: boolean;
  finishedAt: string | null;
  waiting: { key: string; forTypes: string[]; failTypes: string[] } | null;
  history: Array<{ id: string; name: string; kind: string; status: string; attempt: number; deliveryId: string | null; deliveryStatus: string | null; deliveryAttempts: number | null; result: unknown }>;
}

beforeAll(async () => {
  db = await freshDatabase();
  api = createApi(testConfig(), db, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), tasksApp);
  const { port } = await api.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${port}`;
  [admin, service, owner] = await Promise.all([
    mintToken(TEST_SECRET, { role: 'admin', sub: 'ops' }),
    mintToken(TEST_SECRET, { role: 'service', sub: 'svc' }),
    mintToken(TEST_SECRET, { role: 'user', sub: 'u-owner' }),
  ]);
  // The stored definition and its handler's trigger, as the dispatcher's sync leaves them.
  await syncTriggers(db.sql, [{ name: HANDLER_TRIGGER, match: { kind: 'event', types: ['wfv.never'] }, target: { kind: 'inProcess', handler: 'noop' }, retry: { numRetries: 2 } }], testLog());
  await db.sql`
    insert into threefactor.workflow_definitions (name, version, definition, digest, current, start_types)
    values (${WORKFLOW}, 1, ${db.sql.json(definition as never)}, 'digest-v1', true, '{wfv.started}')`;
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.dispose()));
  await api?.drain(1_000);
  await db?.drop();
});

describe('admin queries and retryWorkflow over HTTP', () => {
  it('list, filter and page instances; one instance with its current step, timer, wait and history', async () => {
    const a = await start('k-a');
    const b = await start('k-b');
    const call = await startCall(b.instanceId, b.eventId);
    await deliverCall(call.stepId, call.deliveryId);
    await enterWait(b.instanceId, call.stepId, 'k-b');

    const page = await gql<{ workflowInstances: { edges: Array<{ cursor: string; node: InstanceView }>; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      `query($after: String) { workflowInstances(first: 1, after: $after, filter: { workflow: "${WORKFLOW}" }) { edges { cursor node { ${INSTANCE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      {},
      admin,
    );
    expect(page.errors).toBeUndefined();
    // Newest first: b, then a on the next page.
    expect(page.data!.workflowInstances.edges.map((e) => e.node.id)).toEqual([b.instanceId]);
    expect(page.data!.workflowInstances.pageInfo.hasNextPage).toBe(true);
    const next = await gql<{ workflowInstances: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean } } }>(
      `query($after: String) { workflowInstances(first: 1, after: $after, filter: { workflow: "${WORKFLOW}" }) { edges { node { id } } pageInfo { hasNextPage } } }`,
      { after: page.data!.workflowInstances.pageInfo.endCursor },
      admin,
    );
    expect(next.data!.workflowInstances.edges.map((e) => e.node.id)).toEqual([a.instanceId]);

    const byStatus = await gql<{ workflowInstances: { edges: Array<{ node: { id: string } }> } }>(
      `{ workflowInstances(filter: { status: waiting }) { edges { node { id } } } }`,
      {},
      admin,
    );
    expect(byStatus.data!.workflowInstances.edges.map((e) => e.node.id)).toEqual([b.instanceId]);
    const byKey = await gql<{ workflowInstances: { edges: Array<{ node: { id: string } }> } }>(`{ workflowInstances(filter: { key: "k-a" }) { edges { node { id } } } }`, {}, admin);
    expect(byKey.data!.workflowInstances.edges.map((e) => e.node.id)).toEqual([a.instanceId]);

    const one = await gql<{ workflowInstance: InstanceView }>(`query($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: b.instanceId }, admin);
    expect(one.errors).toBeUndefined();
    const b1 = one.data!.workflowInstance;
    expect(b1).toMatchObject({
      status: 'waiting',
      phase: 'forward',
      stepIndex: 1,
      currentStep: 'approval',
      currentStepKind: 'wait',
      key: 'k-b',
      startedByEvent: b.eventId,
      input: { key: 'k-b', secret: 'start-payload' },
      results: { notify: { sent: true } },
      failure: null,
      waiting: { key: 'k-b', forTypes: ['wfv.approved'], failTypes: ['wfv.declined', 'wfv.cancel.*'] },
    });
    expect(Date.parse(b1.wakeAt!)).toBeGreaterThan(Date.now() + 50_000);
    expect(b1.history).toEqual([
      expect.objectContaining({ id: call.stepId, name: 'notify', kind: 'call', status: 'completed', deliveryId: call.deliveryId, deliveryStatus: 'delivered', deliveryAttempts: 1, result: { sent: true } }),
      expect.objectContaining({ name: 'approval', kind: 'wait', status: 'running', deliveryId: null, result: null }),
    ]);

    // An instance not yet moved: ready at step 0, nothing in its history.
    const a1 = await gql<{ workflowInstance: InstanceView }>(`query($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: a.instanceId }, admin);
    expect(a1.data!.workflowInstance).toMatchObject({ status: 'running', ready: true, stepIndex: 0, currentStep: 'notify', currentStepKind: 'call', history: [] });

    const missing = await gql(`query($id: ID!) { workflowInstance(id: $id) { id } }`, { id: randomUUID() }, admin);
    expect(missing.data).toEqual({ workflowInstance: null });
  });

  it('definitions: every stored version, the current one, steps and handlers (targets described, never stored whole)', async () => {
    const res = await gql<{ workflowDefinitions: Array<Record<string, unknown>> }>(
      `{ workflowDefinitions(name: "${WORKFLOW}") { name version current digest startTypes unfinished
          steps { name kind handler forTypes failOnTypes timeoutSec compensate } handlers { key trigger target } } }`,
      {},
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.workflowDefinitions).toHaveLength(1);
    expect(res.data!.workflowDefinitions[0]).toMatchObject({
      name: WORKFLOW,
      version: 1,
      current: true,
      digest: 'digest-v1',
      startTypes: ['wfv.started'],
      steps: [
        { name: 'notify', kind: 'call', handler: 'notify', forTypes: null, timeoutSec: 30, compensate: null },
        { name: 'approval', kind: 'wait', handler: null, forTypes: ['wfv.approved'], failOnTypes: ['wfv.declined', 'wfv.cancel.'], timeoutSec: 60 },
      ],
      handlers: [{ key: 'notify', trigger: HANDLER_TRIGGER, target: 'in-process handler noop' }],
    });
    expect(res.data!.workflowDefinitions[0]!.unfinished).toBeGreaterThanOrEqual(1);
  });

  it('retryWorkflow: a failed instance is ready again at its failed step; anything else is refused', async () => {
    const c = await start('k-c');
    const call = await startCall(c.instanceId, c.eventId);
    await db.sql`update threefactor.deliveries set status = 'dead', attempts = 3, completed_at = now() where id = ${call.deliveryId}`;
    await finish(c.instanceId, 'failed', { step: 'notify', reason: 'dead' });

    const failed = await gql<{ workflowInstance: InstanceView }>(`query($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: c.instanceId }, admin);
    expect(failed.data!.workflowInstance).toMatchObject({ status: 'failed', failure: { step: 'notify', reason: 'dead', eventId: null }, currentStep: 'notify' });
    expect(failed.data!.workflowInstance.finishedAt).not.toBeNull();

    const retried = await gql<{ retryWorkflow: InstanceView }>(`mutation($id: ID!) { retryWorkflow(id: $id) { ${INSTANCE_FIELDS} } }`, { id: c.instanceId }, admin);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retryWorkflow).toMatchObject({ id: c.instanceId, status: 'running', ready: true, stepIndex: 0, finishedAt: null, wakeAt: null });

    // Not failed (now running again), and unknown: the caller's errors.
    const again = await gql(`mutation($id: ID!) { retryWorkflow(id: $id) { id } }`, { id: c.instanceId }, admin);
    expect(again.errors?.[0]?.extensions?.code).toBe('ILLEGAL_TRANSITION');
    expect(again.errors?.[0]?.message).toMatch(/is running: only a failed instance can be retried/);
    const unknown = await gql(`mutation($id: ID!) { retryWorkflow(id: $id) { id } }`, { id: randomUUID() }, admin);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const malformed = await gql(`mutation { retryWorkflow(id: "nope") { id } }`, {}, admin);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses every other role, and anyone without a token', async () => {
    const { instanceId } = await start('k-refused');
    const operations: Array<[string, Record<string, unknown>]> = [
      ['{ workflowInstances { edges { node { id } } } }', {}],
      ['query($id: ID!) { workflowInstance(id: $id) { id } }', { id: instanceId }],
      ['{ workflowDefinitions { name } }', {}],
      ['mutation($id: ID!) { retryWorkflow(id: $id) { id } }', { id: instanceId }],
    ];
    for (const [query, variables] of operations) {
      for (const token of [service, owner]) {
        const res = await gql(query, variables, token);
        expect(res.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
        // Nothing leaks: no data, or the refused (nullable) field as null.
        expect(Object.values(res.data ?? {}).every((v) => v === null), query).toBe(true);
      }
      const anonymous = await gql(query, variables, null);
      expect(anonymous.status, query).toBe(401);
    }
  });
});

describe('the workflowInstance subscription over graphql-ws', () => {
  it('sends the current state, then each move, to the end', async () => {
    const d = await start('k-d');
    const session = wsSession(url, admin);
    sessions.push(session);
    const feed = session.subscribe<{ workflowInstance: InstanceView }>(`subscription($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: d.instanceId });
    const last = () => feed.data.at(-1)?.workflowInstance;
    await feed.until((f) => f.data.length >= 1, 10_000, 'the initial state');
    expect(last()).toMatchObject({ status: 'running', stepIndex: 0, currentStepId: null, history: [] });

    const call = await startCall(d.instanceId, d.eventId);
    await feed.until(() => last()?.currentStepId === call.stepId, 10_000, 'the call step');
    expect(last()!.history).toEqual([expect.objectContaining({ id: call.stepId, status: 'running', deliveryStatus: 'pending' })]);

    await deliverCall(call.stepId, call.deliveryId);
    await enterWait(d.instanceId, call.stepId, 'k-d');
    await feed.until(() => last()?.status === 'waiting', 10_000, 'the wait');
    expect(last()).toMatchObject({ currentStep: 'approval', waiting: { forTypes: ['wfv.approved'] }, results: { notify: { sent: true } } });

    await finish(d.instanceId, 'completed');
    await feed.until(() => last()?.status === 'completed', 10_000, 'completion');
    expect(last()).toMatchObject({ currentStep: null, waiting: null, wakeAt: null });
    expect(last()!.history.map((s) => s.status)).toEqual(['completed', 'completed']);
    expect(feed.results.every((r) => !r.errors)).toBe(true);
    feed.unsubscribe();
  });

  it('refuses an unknown instance (NOT_FOUND) and other roles (FORBIDDEN)', async () => {
    const { instanceId } = await start('k-e');
    const adminSession = wsSession(url, admin);
    const serviceSession = wsSession(url, service);
    sessions.push(adminSession, serviceSession);
    const missing = adminSession.subscribe(`subscription($id: ID!) { workflowInstance(id: $id) { id } }`, { id: randomUUID() });
    const refused = serviceSession.subscribe(`subscription($id: ID!) { workflowInstance(id: $id) { id } }`, { id: instanceId });
    await missing.untilCompleted();
    await refused.untilCompleted();
    expect(missing.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(refused.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

interface TreeView {
  rootId: string;
  settled: boolean;
  pending: number;
  events: Array<{ id: string; type: string; cause: string; depth: number; payload: Record<string, unknown> | null; causedByEvent: string | null; causedByDelivery: string | null; startedByEvent: string | null }>;
  deliveries: Array<{ id: string; eventId: string; trigger: string; state: string }>;
  workflows: Array<{ id: string; workflow: string; version: number; status: string; startedByEvent: string; settled: boolean }>;
}

const TREE_FIELDS = `rootId settled pending
  events { id type cause depth payload causedByEvent causedByDelivery startedByEvent }
  deliveries { id eventId trigger state }
  workflows { id workflow version status startedByEvent settled }`;

describe('workflow steps in the causal tree', () => {
  it('the start event’s tree holds its instance, each call step with its delivery and the handler’s write-back; settled only once the workflow ends', async () => {
    const f = await start('k-f');
    const call = await startCall(f.instanceId, f.eventId);
    const writeBack = await deliverCall(call.stepId, call.deliveryId);
    // Started by the first call's completion: the runner names that call's delivery as its cause.
    const second = await startCall(f.instanceId, call.stepId, call);
    const secondWriteBack = await deliverCall(second.stepId, second.deliveryId);
    await enterWait(f.instanceId, second.stepId, 'k-f');

    const query = `query($id: ID!) { causalTree(eventId: $id) { ${TREE_FIELDS} } }`;
    const res = await gql<{ causalTree: TreeView }>(query, { id: f.eventId }, admin);
    expect(res.errors).toBeUndefined();
    const tree = res.data!.causalTree;
    // Each event once: the first call under the start event, the second under the first call's delivery, as its write-back.
    expect(tree.events.map((e) => [e.id, e.type, e.cause, e.depth])).toEqual([
      [f.eventId, 'wfv.started', 'api', 0],
      [call.stepId, ENGINE_EVENTS.workflowStep, 'workflow', 1],
      [writeBack, 'wfv.notified', 'delivery', 2],
      [second.stepId, ENGINE_EVENTS.workflowStep, 'delivery', 2],
      [secondWriteBack, 'wfv.notified', 'delivery', 3],
    ]);
    expect(tree.events[1]).toMatchObject({ startedByEvent: f.eventId, causedByEvent: f.eventId, causedByDelivery: null });
    expect(tree.events[2]).toMatchObject({ causedByDelivery: call.deliveryId, payload: { secret: 'write-back' } });
    expect(tree.events[3]).toMatchObject({ startedByEvent: null, causedByEvent: call.stepId, causedByDelivery: call.deliveryId });
    expect(tree.deliveries).toEqual([
      { id: call.deliveryId, eventId: call.stepId, trigger: HANDLER_TRIGGER, state: 'delivered' },
      { id: second.deliveryId, eventId: second.stepId, trigger: HANDLER_TRIGGER, state: 'delivered' },
    ]);
    expect(tree.workflows).toEqual([{ id: f.instanceId, workflow: WORKFLOW, version: 1, status: 'waiting', startedByEvent: f.eventId, settled: false }]);
    // Every delivery is done, but the workflow waits: more will happen.
    expect(tree).toMatchObject({ pending: 0, settled: false });

    // The viewer whose write started it sees the same tree, without payloads.
    const mine = await gql<{ causalTree: TreeView }>(query, { id: f.eventId }, owner);
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.causalTree.events.map((e) => [e.id, e.cause, e.payload])).toEqual([
      [f.eventId, 'api', null],
      [call.stepId, 'workflow', null],
      [writeBack, 'delivery', null],
      [second.stepId, 'delivery', null],
      [secondWriteBack, 'delivery', null],
    ]);
    expect(mine.data!.causalTree.workflows.map((w) => w.status)).toEqual(['waiting']);

    await finish(f.instanceId, 'completed');
    const done = await gql<{ causalTree: TreeView }>(query, { id: f.eventId }, admin);
    expect(done.data!.causalTree).toMatchObject({ settled: true, workflows: [{ status: 'completed', settled: true }] });
  });

  it('the causalTree subscription sees steps appear and completes only when the workflow has ended', async () => {
    const g = await start('k-g');
    const session = wsSession(url, admin);
    sessions.push(session);
    const feed = session.subscribe<{ causalTree: TreeView }>(`subscription($id: ID!) { causalTree(eventId: $id) { ${TREE_FIELDS} } }`, { id: g.eventId });
    const last = () => feed.data.at(-1)?.causalTree;
    await feed.until((f) => f.data.length >= 1, 10_000, 'the first tree');
    // No delivery yet, but a workflow running: not settled, the subscription stays.
    expect(last()).toMatchObject({ settled: false, deliveries: [], workflows: [{ id: g.instanceId, status: 'running' }] });

    const call = await startCall(g.instanceId, g.eventId);
    await feed.until(() => last()?.events.some((e) => e.id === call.stepId) === true, 10_000, 'the step event');
    const writeBack = await deliverCall(call.stepId, call.deliveryId);
    await feed.until(() => last()?.events.some((e) => e.id === writeBack) === true, 10_000, 'the write-back');
    await enterWait(g.instanceId, call.stepId, 'k-g');
    await feed.until(() => last()?.workflows[0]?.status === 'waiting', 10_000, 'the wait');
    expect(feed.completed).toBe(false);

    await finish(g.instanceId, 'completed');
    await feed.untilCompleted(10_000);
    expect(last()).toMatchObject({ settled: true, workflows: [{ status: 'completed' }] });
  });
});

describe('with the real runner (a dispatcher on the same database)', () => {
  const REAL = 'wf-real';
  const realDefinition: WorkflowDefinition = {
    name: REAL,
    version: 1,
    start: { types: ['wfr.started'] },
    steps: [
      { name: 'first', kind: 'call', handler: 'note' },
      { name: 'second', kind: 'call', handler: 'note' },
      { name: 'approval', kind: 'wait', for: { types: ['wfr.approved'] }, timeoutSec: 60 },
      { name: 'last', kind: 'call', handler: 'note' },
    ],
    handlers: { note: { target: { kind: 'inProcess', handler: 'wfr-note' }, retry: { numRetries: 2, intervalSec: 0.05 } } },
  };
  /** Its compensation fails (dead at once) until `undoWorks`, so the instance ends `failed` at that compensation. */
  const RETRIED = 'wf-retried';
  const retriedDefinition: WorkflowDefinition = {
    name: RETRIED,
    version: 1,
    start: { types: ['wfx.started'] },
    steps: [
      { name: 'charge', kind: 'call', handler: 'ok', compensate: 'undo' },
      { name: 'boom', kind: 'call', handler: 'fail' },
    ],
    handlers: {
      ok: { target: { kind: 'inProcess', handler: 'wfx-ok' } },
      fail: { target: { kind: 'inProcess', handler: 'wfx-fail' }, retry: { numRetries: 0 } },
      undo: { target: { kind: 'inProcess', handler: 'wfx-undo' }, retry: { numRetries: 0 } },
    },
  };
  let undoWorks = false;
  let dispatcher: Dispatcher | undefined;

  beforeAll(async () => {
    dispatcher = await startDispatcher({
      database: db,
      log: testLog(),
      workflows: [realDefinition, retriedDefinition],
      inProcessHandlers: {
        'wfx-ok': async () => ({ charged: true }),
        'wfx-fail': async () => {
          throw new Error('boom');
        },
        'wfx-undo': async () => {
          if (!undoWorks) throw new Error('the refund provider is down');
          return { refunded: true };
        },
        // Each step writes one event back, caused by its delivery, as a kit handler's write-back is.
        'wfr-note': async (payload, _signal, delivery) => {
          const step = payload.event.data.new as unknown as StepPayload;
          await withEventTransaction(db.db, { session: null, traceContext: null, eventIds: [], cause: delivery ? { event: payload.id, delivery: delivery.id } : null }, ({ emit }) =>
            emit({ type: 'wfr.noted', aggregateType: 'thing', aggregateId: String(step.input.key), payload: { step: step.step } }),
          );
          return { step: step.step };
        },
      },
      webhookSecret: TEST_WEBHOOK_SECRET,
      pollMs: 100,
    });
  });
  afterAll(async () => {
    await dispatcher?.stop({ deadlineMs: 2_000 });
  });

  it('the subscription and the causal tree follow an instance through calls, a wait and its end', async () => {
    const session = wsSession(url, admin);
    sessions.push(session);
    const [startId] = await emitEvents(db, [{ type: 'wfr.started', aggregateType: 'thing', aggregateId: 'r-1', payload: { key: 'r-1' } }], { session: OWNER_SESSION });
    const [row] = await db.sql<{ id: string }[]>`select id from threefactor.workflow_instances where started_by_event = ${startId!}`;
    const instanceId = row!.id;
    const feed = session.subscribe<{ workflowInstance: InstanceView }>(`subscription($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: instanceId });
    const last = () => feed.data.at(-1)?.workflowInstance;
    await feed.until(() => last()?.history.some((s) => s.name === 'first') === true, 15_000, 'the first call');
    // The wait, read from the table: entering it appends no engine event of the instance's (the runner's choice), so no subscriber is told.
    await waitFor(async () => (await db.sql`select 1 from threefactor.workflow_waits where instance_id = ${instanceId}`).length === 1, 'the wait', 15_000);
    const waiting = await gql<{ workflowInstance: InstanceView }>(`query($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id: instanceId }, admin);
    expect(waiting.data!.workflowInstance).toMatchObject({
      status: 'waiting',
      currentStep: 'approval',
      waiting: { key: 'r-1', forTypes: ['wfr.approved'] },
      results: { first: { step: 'first' }, second: { step: 'second' } },
    });

    await emitEvents(db, [{ type: 'wfr.approved', aggregateType: 'thing', aggregateId: 'r-1', payload: {} }]);
    await feed.until(() => last()?.status === 'completed', 15_000, 'completion');
    expect(last()!.history.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['first', 'call', 'completed'],
      ['second', 'call', 'completed'],
      ['approval', 'wait', 'completed'],
      ['last', 'call', 'completed'],
    ]);
    expect(feed.results.every((r) => !r.errors)).toBe(true);

    const tree = (await gql<{ causalTree: TreeView }>(`query($id: ID!) { causalTree(eventId: $id) { ${TREE_FIELDS} } }`, { id: startId }, admin)).data!.causalTree;
    const steps = last()!.history.filter((s) => s.kind === 'call');
    // Every call once: the first and the one after the wait under the start event, the second under the first's delivery.
    const stepEvents = tree.events.filter((e) => e.type === ENGINE_EVENTS.workflowStep);
    expect(stepEvents.map((e) => e.id).sort()).toEqual(steps.map((s) => s.id).sort());
    expect(stepEvents.map((e) => e.cause).sort()).toEqual(['delivery', 'workflow', 'workflow']);
    expect(tree.events.filter((e) => e.type === 'wfr.noted')).toHaveLength(3);
    expect(tree.deliveries.map((d) => d.eventId).sort()).toEqual(steps.map((s) => s.id).sort());
    expect(tree).toMatchObject({ settled: true, workflows: [{ id: instanceId, status: 'completed' }] });
  });

  it('retryWorkflow runs a failed instance’s failed step again, and the runner takes it to its end', async () => {
    const [startId] = await emitEvents(db, [{ type: 'wfx.started', aggregateType: 'thing', aggregateId: 'x-1', payload: { key: 'x-1' } }]);
    const [row] = await db.sql<{ id: string }[]>`select id from threefactor.workflow_instances where started_by_event = ${startId!}`;
    const id = row!.id;
    const read = async () => (await gql<{ workflowInstance: InstanceView }>(`query($id: ID!) { workflowInstance(id: $id) { ${INSTANCE_FIELDS} } }`, { id }, admin)).data!.workflowInstance;
    await waitFor(async () => (await read()).status === 'failed', 'the compensation to fail', 15_000);
    const failed = await read();
    expect(failed).toMatchObject({ phase: 'compensate', stepIndex: 0, failure: { step: 'boom', reason: 'dead' } });
    expect(failed.history.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['charge', 'call', 'completed'],
      ['boom', 'call', 'failed'],
      ['charge', 'compensate', 'failed'],
    ]);

    undoWorks = true;
    const retried = await gql<{ retryWorkflow: InstanceView }>(`mutation($id: ID!) { retryWorkflow(id: $id) { status } }`, { id }, admin);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retryWorkflow.status).toBe('compensating');
    await waitFor(async () => (await read()).status === 'compensated', 'the retried compensation', 15_000);
    const done = await read();
    // The failed compensation ran again as a new execution: a new row, a new step id (idempotency key), attempt 2.
    expect(done.history.slice(2).map((s) => [s.name, s.kind, s.status, s.attempt])).toEqual([
      ['charge', 'compensate', 'failed', 1],
      ['charge', 'compensate', 'completed', 2],
    ]);
    expect(new Set(done.history.map((s) => s.id)).size).toBe(done.history.length);
  });
});
