/**
 * Starting processes on a database with nothing in it: two at once, each in
 * engine-only mode (APP=none) and in app mode, all come up on the same
 * migrated database; and a trigger declared by both the app and
 * TRIGGERS_FILE stops `dispatch` with one line naming both places.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { appliedCount, ENGINE_MIGRATIONS, migrationCount } from '../../src/engine/db/migrate.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runCommand, type CommandProcess } from '../support/processes.js';

let db: TestDatabase | undefined;
let procs: CommandProcess[] = [];
let tmp: string | undefined;

afterEach(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
  await db?.drop();
  db = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

const baseEnv = (extra: Record<string, string>) => ({
  DATABASE_URL: urlFor(db!.name),
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  AUTH_JWT_SECRET: TEST_SECRET,
  WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  ...extra,
});

async function stopAll(): Promise<Array<number | null>> {
  for (const p of procs) p.child.kill('SIGTERM');
  return (await Promise.all(procs.map((p) => p.exited))).map((e) => e.code);
}

const tables = async (schema: string) =>
  (await db!.sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = ${schema} order by 1`).map((r) => r.t);

describe('processes starting at once on an empty database', () => {
  it('engine-only: two dispatchers and an engine-only API both come up; no domain table or trigger appears', async () => {
    db = await freshDatabase({ empty: true });
    procs = [
      runCommand(['dispatch'], baseEnv({ APP: 'none' })),
      runCommand(['dispatch'], baseEnv({ APP: 'none' })),
      runCommand(['start'], baseEnv({ APP: 'none', PORT: '0', HOST: '127.0.0.1', ALL_IN_ONE: 'false' })),
    ];
    const started = await Promise.all(procs.slice(0, 2).map((p) => p.waitForLog((l) => l.msg === 'dispatcher started', 30_000)));
    for (const s of started) expect(s.triggers).toEqual([]);
    const listening = await procs[2]!.waitForLog((l) => l.msg === 'api listening', 30_000);
    expect(listening.app).toBe('none');
    const base = String(listening.url).replace(/\/graphql$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    // The demo is the app's: the engine alone serves none of it.
    expect((await fetch(`${base}/demo/`)).status).toBe(404);

    expect(await tables('public')).toEqual([]);
    expect(await appliedCount(db.sql, ENGINE_MIGRATIONS)).toBe(migrationCount(ENGINE_MIGRATIONS));
    const [triggers] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.event_triggers`;
    expect(triggers!.n).toBe(0);
    expect(await stopAll()).toEqual([0, 0, 0]);
  });

  it('app mode: two APIs and a dispatcher come up on one migrated database with the app’s triggers', async () => {
    db = await freshDatabase({ empty: true });
    const api = { APP: 'food-delivery', PORT: '0', HOST: '127.0.0.1', ALL_IN_ONE: 'false', SEED_DEMO_DATA: 'true' };
    procs = [runCommand(['start'], baseEnv(api)), runCommand(['start'], baseEnv(api)), runCommand(['dispatch'], baseEnv({}))];
    const listening = await Promise.all(procs.slice(0, 2).map((p) => p.waitForLog((l) => l.msg === 'api listening', 30_000)));
    const dispatcher = await procs[2]!.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    expect((dispatcher.triggers as string[]).sort()).toEqual([
      'charge-payment',
      'validate-order',
      'workflow.order-fulfilment.v1.assign-driver',
      'workflow.order-fulfilment.v1.decline-unanswered',
      'workflow.order-fulfilment.v1.refund-payment',
      'workflow.refund-late-payment.v1.refund-payment',
    ]);
    for (const l of listening) {
      expect(l.app).toBe('food-delivery');
      expect((await fetch(String(l.url).replace(/\/graphql$/, '/readyz'))).status).toBe(200);
    }
    expect(await appliedCount(db.sql, foodDeliveryMigrations)).toBe(migrationCount(foodDeliveryMigrations));
    // Seeded once, though two processes found the database empty at start.
    const [restaurants] = await db.sql<{ n: number }[]>`select count(*)::int as n from public.restaurants`;
    expect(restaurants!.n).toBeGreaterThan(0);
    expect(await stopAll()).toEqual([0, 0, 0]);
  });

  it('refuses a trigger declared by the app and by TRIGGERS_FILE, in one line naming both', async () => {
    db = await freshDatabase({ empty: true });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'threefactor-dup-'));
    const file = path.join(tmp, 'triggers.json');
    await writeFile(
      file,
      JSON.stringify({
        type: 'create_event_trigger',
        args: { name: 'validate-order', table: { schema: 'public', name: 'orders' }, webhook: 'http://127.0.0.1:1/x', insert: { columns: '*' } },
      }),
    );
    procs = [runCommand(['dispatch'], baseEnv({ TRIGGERS_FILE: file }))];
    const { code } = await procs[0]!.exited;
    expect(code).toBe(2);
    expect(procs[0]!.stderr()).toBe(`threefactor: event trigger "validate-order" is declared twice: in the app food-delivery and in ${file}\n`);
  });
});
