/**
 * The outcomes waiting to be written are bounded (MAX_UNWRITTEN_OUTCOMES):
 * while the completer cannot write, the claim loop stops claiming at the
 * bound (`waitingForCompleter`) instead of running the whole backlog into
 * an ever larger buffer, and once writes land again it goes on, each
 * delivery run once and none lost. The failure is real: a trigger of the
 * test's own refuses every attempt row, so the completion statement fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UNWRITTEN_OUTCOMES } from '../../src/engine/dispatcher/completer.js';
import { DISPATCHER_DEFAULTS, startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitMany, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';

const BACKLOG = 2 * MAX_UNWRITTEN_OUTCOMES;

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
const runs = new Map<string, number>();

beforeAll(async () => {
  db = await freshDatabase();
  await db.sql.unsafe(`
    create table public.refuse_attempts (on_ boolean primary key);
    create function public.refuse_attempts() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from public.refuse_attempts) then raise exception 'refused by the test'; end if;
      return new;
    end $$;
    create trigger refuse_attempts before insert on threefactor.delivery_attempts for each row execute function public.refuse_attempts();
    insert into public.refuse_attempts values (true);`);
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    triggers: [{ name: 'bounded', match: { kind: 'event', types: ['b.job'] }, target: { kind: 'inProcess', handler: 'job' } }],
    inProcessHandlers: {
      job: async (payload) => {
        const n = String((payload.event.data.new as { n: number }).n);
        runs.set(n, (runs.get(n) ?? 0) + 1);
      },
    },
  });
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 5_000 });
  await db?.drop();
});

const count = async (status: string) =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = ${status}::threefactor.delivery_status`)[0]!.n;

describe('while outcomes cannot be written', () => {
  it('claims stop at the bound of unwritten outcomes, and go on once writes land, each delivery run once', async () => {
    await emitMany(db, 'b.job', BACKLOG);
    await waitFor(() => runs.size >= MAX_UNWRITTEN_OUTCOMES, 'the bound reached', 30_000);
    // Long enough for several more claims, had nothing held them back (the backlog would be gone in well under this).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(runs.size).toBeGreaterThanOrEqual(MAX_UNWRITTEN_OUTCOMES);
    expect(runs.size).toBeLessThan(MAX_UNWRITTEN_OUTCOMES + DISPATCHER_DEFAULTS.batchSize);
    expect(await count('pending')).toBe(BACKLOG - runs.size);
    expect(await count('delivered')).toBe(0);

    await db.sql`delete from public.refuse_attempts`;
    await waitFor(async () => (await count('delivered')) === BACKLOG, 'every delivery delivered', 60_000);
    expect(runs.size).toBe(BACKLOG);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const [attempts] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.delivery_attempts`;
    expect(attempts!.n).toBe(BACKLOG);
  });
});
