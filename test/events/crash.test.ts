/**
 * At least once across crashes, with real `dispatch` child processes: the
 * dispatcher is SIGKILLed mid-batch again and again, two share the load,
 * and SIGTERM drains by releasing in-flight work.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { spawnDispatcher, started, type DispatcherProcess } from '../support/dispatcherProcess.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let dir: string;
let triggersFile: string;
const children: DispatcherProcess[] = [];

/** Hasura metadata, as a Hasura project would have it: one trigger per table. */
function metadata(): unknown {
  const trigger = (name: string, table: string, env: string) => ({
    type: 'pg_create_event_trigger',
    args: {
      name,
      source: 'default',
      table: { schema: 'public', name: table },
      insert: { columns: '*' },
      webhook_from_env: env,
      retry_conf: { num_retries: 5, interval_sec: 1, timeout_sec: 10 },
    },
  });
  return { type: 'bulk', args: [trigger('driver_created', 'drivers', 'DRIVER_HOOK_URL'), trigger('customer_created', 'customers', 'CUSTOMER_HOOK_URL')] };
}

function spawn(env: Record<string, string | undefined>): DispatcherProcess {
  const child = spawnDispatcher({ DATABASE_URL: db.url, TRIGGERS_FILE: triggersFile, DRIVER_HOOK_URL: 'http://127.0.0.1:9/unused', CUSTOMER_HOOK_URL: 'http://127.0.0.1:9/unused', ...env });
  children.push(child);
  return child;
}

async function count(query: Promise<Array<{ n: number }>>): Promise<number> {
  return (await query)[0]!.n;
}

beforeAll(async () => {
  db = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'tf-crash-'));
  triggersFile = path.join(dir, 'triggers.json');
  await writeFile(triggersFile, JSON.stringify(metadata()));
});
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await rm(dir, { recursive: true, force: true });
  await db.drop();
});

describe('at least once under SIGKILL', () => {
  it('delivers every one of 500 events although the dispatcher is SIGKILLed mid-batch four times', async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 15 }));
    const env = { DRIVER_HOOK_URL: `${receiver.url}/drivers`, DISPATCH_CONCURRENCY: '10', DISPATCH_BATCH_SIZE: '10' };
    try {
      let child = spawn(env);
      await child.waitForLog(started);
      await db.sql`insert into drivers (name) select 'driver ' || n from generate_series(1, 500) as n`;
      const distinct = () => new Set(receiver.requests.map((r) => r.json.id)).size;

      for (let kill = 1; kill <= 4; kill++) {
        const before = receiver.requests.length;
        await waitFor(`deliveries before kill ${kill}`, () => receiver.requests.length >= before + 50);
        // Mid-batch: deliveries are leased to this process right now.
        const running = await count(db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = 'running'`);
        expect(running).toBeGreaterThan(0);
        child.child.kill('SIGKILL');
        expect((await child.exited).signal).toBe('SIGKILL');
        expect(distinct()).toBeLessThan(500);
        child = spawn(env);
        await child.waitForLog(started);
      }

      await waitFor('all 500 events delivered', () => distinct() === 500, 60_000);
      await waitFor('every delivery recorded as delivered', async () =>
        (await count(db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'driver_created' and status = 'delivered'`)) === 500,
      );
      const [events] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.events where type = 'public.drivers.INSERT'`;
      expect(events!.n).toBe(500);
      // Killed leases were reclaimed and re-run by the next process (duplicates are allowed, loss is not).
      const reclaimed = await count(db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'driver_created' and claims > 1`);
      expect(reclaimed).toBeGreaterThan(0);
      expect(receiver.requests.length).toBeGreaterThanOrEqual(500);
      child.child.kill('SIGTERM');
      expect((await child.exited).code).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('shares the load between two dispatchers, none lost', async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 20 }));
    const env = { CUSTOMER_HOOK_URL: `${receiver.url}/customers`, DISPATCH_CONCURRENCY: '5', DISPATCH_BATCH_SIZE: '5' };
    try {
      const a = spawn(env);
      const b = spawn(env);
      const ids = await Promise.all([a, b].map(async (p) => String((await p.waitForLog(started)).dispatcherId)));
      await db.sql`insert into customers (name, email) select 'c' || n, 'c' || n || '@example.test' from generate_series(1, 300) as n`;
      await waitFor('300 deliveries', async () =>
        (await count(db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where trigger_name = 'customer_created' and status = 'delivered'`)) === 300,
      30_000);
      expect(new Set(receiver.requests.map((r) => r.json.id)).size).toBe(300);
      const perDispatcher = await db.sql<{ dispatcher_id: string; n: number }[]>`
        select a.dispatcher_id, count(*)::int as n
        from threefactor.delivery_attempts as a join threefactor.deliveries as d on d.id = a.delivery_id
        where d.trigger_name = 'customer_created'
        group by a.dispatcher_id`;
      const byId = Object.fromEntries(perDispatcher.map((r) => [r.dispatcher_id, r.n]));
      expect(Object.keys(byId).sort()).toEqual([...ids].sort());
      for (const id of ids) expect(byId[id]).toBeGreaterThan(0);
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect((await a.exited).code).toBe(0);
      expect((await b.exited).code).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});

describe('SIGTERM drain', () => {
  it('releases in-flight deliveries (back to pending, attempt not counted) before the deadline and exits 0', async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 10_000 }));
    const child = spawn({ CUSTOMER_HOOK_URL: `${receiver.url}/slow`, SHUTDOWN_TIMEOUT_MS: '2000' });
    try {
      await child.waitForLog(started);
      await db.sql`insert into customers (name, email) select 'slow' || n, 'slow' || n || '@example.test' from generate_series(1, 5) as n`;
      await waitFor('five requests in flight', () => receiver.requests.length === 5);
      const signalled = Date.now();
      child.child.kill('SIGTERM');
      const exit = await child.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(4_000);
      const stopped = child.logs.find((l) => l.msg === 'dispatcher stopped');
      expect(stopped?.released).toBe(5);
      const rows = await db.sql<{ status: string; attempts: number; claims: number; locked_by: string | null }[]>`
        select d.status, d.attempts, d.claims, d.locked_by
        from threefactor.deliveries as d join threefactor.events as e on e.id = d.event_id
        where d.trigger_name = 'customer_created' and e.payload #>> '{data,new,name}' like 'slow%'`;
      expect(rows).toHaveLength(5);
      for (const r of rows) expect(r).toEqual({ status: 'pending', attempts: 0, claims: 1, locked_by: null });
    } finally {
      await receiver.close();
    }
  }, 30_000);
});

describe('dispatch refuses to start on bad configuration, with one line naming the problem', () => {
  it('requires WEBHOOK_SECRET in production', async () => {
    const child = spawn({ NODE_ENV: 'production', WEBHOOK_SECRET: undefined, AUTH_JWT_SECRET: 'x'.repeat(32) });
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toBe('threefactor: config: WEBHOOK_SECRET is required (echo whsec_$(openssl rand -base64 32))\n');
  });

  it('names the malformed entry of TRIGGERS_FILE', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ type: 'bulk', args: [{ type: 'pg_create_event_trigger', args: { name: 'broken', table: 'drivers', insert: { columns: '*' } } }] }));
    const child = spawn({ TRIGGERS_FILE: bad });
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toBe(`threefactor: ${bad}: $.args[0] (pg_create_event_trigger "broken"): webhook exactly one of webhook or webhook_from_env is required\n`);
  });

  it('names a trigger whose table does not exist', async () => {
    const bad = path.join(dir, 'ghost.json');
    await writeFile(bad, JSON.stringify({ type: 'create_event_trigger', args: { name: 'ghostly', table: 'ghosts', webhook: 'http://127.0.0.1:9/', insert: { columns: '*' } } }));
    const child = spawn({ TRIGGERS_FILE: bad });
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toBe('threefactor: event trigger "ghostly" captures table public.ghosts, which does not exist\n');
  });
});
