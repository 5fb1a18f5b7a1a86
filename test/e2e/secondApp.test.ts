/**
 * A second app proves the engine general: test/fixtures/apps/tasks (one
 * table, one CRUD + event mutation, one trigger to a kit handler served
 * through its fetch handler, one live subscription), run by its own main
 * with no food-delivery code loaded. API, dispatcher and handler are three
 * processes; the client talks real HTTP and WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runEntry, type CommandProcess } from '../support/processes.js';
import { wsSession, type WsSession } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const MAIN = 'test/fixtures/apps/tasks/main.ts';

let db: TestDatabase;
const procs: CommandProcess[] = [];
let apiUrl: string;
let handlerUrl: string;
let ws: WsSession | undefined;
let dispatcherStarted: Record<string, unknown>;

const common = () => ({ DATABASE_URL: urlFor(db.name), NODE_ENV: 'test', LOG_LEVEL: 'info', AUTH_JWT_SECRET: TEST_SECRET, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET });

function spawn(entry: string, args: string[], env: Record<string, string>): CommandProcess {
  const proc = runEntry(entry, args, env);
  procs.push(proc);
  return proc;
}

async function gql<T>(query: string, variables: Record<string, unknown>, token: string): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as never;
}

beforeAll(async () => {
  db = await freshDatabase({ empty: true });
  const api = spawn(MAIN, ['start'], { ...common(), PORT: '0', HOST: '127.0.0.1', ALL_IN_ONE: 'false' });
  apiUrl = String((await api.waitForLog((l) => l.msg === 'api listening', 30_000)).url).replace(/\/graphql$/, '');
  const handler = spawn('test/fixtures/apps/tasks/serveHandler.ts', [], {
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    API_URL: `${apiUrl}/graphql`,
    SERVICE_TOKEN: await mintToken(TEST_SECRET, { role: 'service', sub: 'tasks-handler' }),
  });
  handlerUrl = String((await handler.waitForLog((l) => l.msg === 'handlers listening', 30_000)).url);
  // The dispatcher declares (syncs) the app's trigger: events written from now on are routed to it.
  const dispatch = spawn(MAIN, ['dispatch'], { ...common(), LABEL_TASK_URL: `${handlerUrl}/label-task`, DISPATCH_POLL_MS: '100' });
  dispatcherStarted = await dispatch.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
}, 60_000);

afterAll(async () => {
  await ws?.dispose();
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await db?.drop();
});

describe('a second app on the engine (tasks)', () => {
  it('runs with no food-delivery code: its own table and history, its own schema', async () => {
    const [tables] = await db.sql<{ tasks: boolean; orders: boolean; history: boolean }[]>`
      select to_regclass('public.tasks') is not null as tasks, to_regclass('public.orders') is not null as orders,
             to_regclass('drizzle.__tasks_migrations') is not null as history`;
    expect(tables).toEqual({ tasks: true, orders: false, history: true });
    const admin = await mintToken(TEST_SECRET, { role: 'admin', sub: 'ops' });
    const types = await gql<{ __schema: { types: Array<{ name: string }> } }>('{ __schema { types { name } } }', {}, admin);
    const names = types.data!.__schema.types.map((t) => t.name);
    expect(names).toContain('Task');
    expect(names).toContain('EventTrigger'); // the engine's admin API is mounted beside it
    expect(names).not.toContain('Order');
    // The app's roles: a food-delivery role is not one of them.
    const customer = await mintToken(TEST_SECRET, { role: 'customer', sub: 'c1' });
    const refused = await gql('{ __typename }', {}, customer);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a write emits an event, the dispatcher delivers it to the kit handler, whose write-back reaches the live subscription', async () => {
    expect(dispatcherStarted.triggers).toEqual(['label-task']);
    const ada = await mintToken(TEST_SECRET, { role: 'user', sub: 'ada' });
    const admin = await mintToken(TEST_SECRET, { role: 'admin', sub: 'ops' });
    // Held until the subscription is open, so the label is seen arriving live.
    expect((await gql('mutation { pauseTrigger(name: "label-task") { paused } }', {}, admin)).data).toEqual({ pauseTrigger: { paused: true } });
    const added = await gql<{ addTask: { id: string; version: number; label: string | null } }>(
      'mutation($title: String!) { addTask(title: $title) { id version label } }',
      { title: 'Call the plumber now' },
      ada,
    );
    const task = added.data!.addTask;
    expect(task).toMatchObject({ version: 1, label: null });

    ws = wsSession(apiUrl, ada);
    const live = ws.subscribe<{ task: { version: number; label: string | null } }>('subscription($id: ID!) { task(id: $id) { version label } }', { id: task.id });
    await live.untilCount(1);
    expect(live.data[0]).toEqual({ task: { version: 1, label: null } });

    // Someone else's task is refused, the same rule as for a query.
    const bob = wsSession(apiUrl, await mintToken(TEST_SECRET, { role: 'user', sub: 'bob' }));
    try {
      const foreign = bob.subscribe('subscription($id: ID!) { task(id: $id) { version } }', { id: task.id });
      await foreign.until((f) => f.results.length > 0 || f.completed, 10_000, 'a refusal');
      expect(foreign.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await bob.dispose();
    }

    // Only now the delivery: the label arrives live, through the handler's write-back.
    expect((await gql('mutation { resumeTrigger(name: "label-task") { paused } }', {}, admin)).data).toEqual({ resumeTrigger: { paused: false } });
    await live.until((f) => f.data.some((d) => d.task.version === 2), 15_000, 'the labelled state');
    expect(live.data.at(-1)).toEqual({ task: { version: 2, label: 'urgent' } });

    // The delivery is written as delivered once the handler has answered (after its write-back).
    const history = () => db.sql<{ type: string; trigger: string | null; status: string | null }[]>`
      select e.type, d.trigger_name as trigger, d.status::text as status
      from threefactor.events as e left join threefactor.deliveries as d on d.event_id = e.id
      where e.aggregate_id = ${task.id} order by e.seq`;
    await waitFor(async () => (await history())[0]?.status === 'delivered', 'the delivery outcome');
    expect(await history()).toEqual([
      { type: 'task.added', trigger: 'label-task', status: 'delivered' },
      { type: 'task.labelled', trigger: null, status: null },
    ]);
  });

  it('every process drains on SIGTERM and exits 0', async () => {
    await ws?.dispose();
    ws = undefined;
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = (await Promise.all(procs.map((p) => p.exited))).map((e) => e.code);
    expect(codes).toEqual(procs.map(() => 0));
  });
});
