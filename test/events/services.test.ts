/**
 * The dispatcher's services, each stopped under load against real
 * PostgreSQL: the claim loop stops claiming and hands back what a claim in
 * flight returns; the attempts finish until the deadline's reserve and
 * release the rest; the completer writes by the deadline or reports what it
 * could not; the lease keeper keeps leases alive until the outcomes are
 * written; the rescuer and the registry refresher stop their timers.
 * Statements are held up with real table locks taken by a second session.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attempts, type DeliveryOutcomeKind } from '../../src/engine/dispatcher/attempts.js';
import { ClaimLoop } from '../../src/engine/dispatcher/claimLoop.js';
import { Completer } from '../../src/engine/dispatcher/completer.js';
import { decideOutcome, releasedOutcome } from '../../src/engine/dispatcher/delivery/outcome.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { LeaseKeeper } from '../../src/engine/dispatcher/leaseKeeper.js';
import { fairRefill } from '../../src/engine/dispatcher/refill.js';
import { RegistryRefresher } from '../../src/engine/dispatcher/registryRefresher.js';
import { Rescuer } from '../../src/engine/dispatcher/rescuer.js';
import { claimDeliveries } from '../../src/engine/events/sql/claimDeliveries.js';
import { reclaimExpiredLeases } from '../../src/engine/events/sql/reclaimExpiredLeases.js';
import { TriggerRegistry } from '../../src/engine/events/triggers/registry.js';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { retryPolicy, type InProcessHandler, type TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { sleep } from '../../src/engine/lib.js';
import { Runtime } from '../../src/engine/runtime/service.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitMany, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
const log = testLog();

const trigger = (name: string, type: string): TriggerDefinition => ({
  name,
  match: { kind: 'event', types: [type] },
  target: { kind: 'inProcess', handler: 'hold' },
  retry: { numRetries: 3 },
});

/** An in-process handler that holds every call until the test lets it go. */
function heldHandler() {
  const waiting: Array<() => void> = [];
  let calls = 0;
  const handler: InProcessHandler = () =>
    new Promise<void>((resolve) => {
      calls++;
      waiting.push(resolve);
    });
  return {
    handler,
    waiting,
    get calls() {
      return calls;
    },
    letGo: (n: number) => waiting.splice(0, n).forEach((resolve) => resolve()),
  };
}

/** Holds `lock table <table> in exclusive mode` in a second session until released: plain reads still run, writes wait. */
async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const taken = new Promise<void>((resolve) => (locked = resolve));
  const tx = db.sql.begin(async (t) => {
    await t.unsafe(`lock table ${table} in exclusive mode`);
    locked();
    await held;
  });
  await Promise.race([taken, tx]);
  return {
    async release() {
      release();
      await tx;
    },
  };
}

const waitingOnLocks = async () =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)[0]!.n;

async function statuses(triggerName: string): Promise<Array<{ status: string; claims: number; attempts: number; locked: boolean; n: number }>> {
  return db.sql`
    select status::text, claims, attempts, locked_by is not null as locked, count(*)::int as n
    from threefactor.deliveries where trigger_name = ${triggerName}
    group by 1, 2, 3, 4 order by 1, 2, 3, 4`;
}

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

beforeAll(async () => {
  db = await freshDatabase();
  await syncTriggers(db.sql, [trigger('loop', 'svc.loop'), trigger('written', 'svc.written'), trigger('kept', 'svc.kept'), trigger('rescued', 'svc.rescued')]);
});
afterAll(async () => db.drop());

describe('the claim loop and the attempts, stopped under load', () => {
  it('stops claiming, hands back what a claim in flight returns, finishes attempts until the reserve and releases the rest', async () => {
    const held = heldHandler();
    const handlers = { hold: held.handler };
    const outcomes: DeliveryOutcomeKind[] = [];
    const registry = new TriggerRegistry(db.sql, handlers);
    await registry.refresh();
    const completer = new Completer({ sql: db.sql, dispatcherId: 'loop-test', log, maxBatch: 50, delayMs: 5, onFlushed: () => {} });
    const attempts: Attempts = new Attempts({
      registry,
      context: { signer: webhookSigner(TEST_WEBHOOK_SECRET), env: {}, handlers },
      completer,
      log,
      hooks: { onOutcome: (_t, outcome) => void outcomes.push(outcome) },
      onSettled: () => loop.slotFreed(),
      onUnknownTrigger: () => {},
    });
    const loop: ClaimLoop = new ClaimLoop({
      sql: db.sql,
      dispatcherId: 'loop-test',
      log,
      registry: { servableNames: () => ['loop'], get: (name) => registry.get(name) },
      attempts,
      unwritten: () => completer.size,
      refill: fairRefill(20, 20),
      pollMs: 60_000,
      leaseMs: 30_000,
    });
    await emitMany(db, 'svc.loop', 100);
    let lock: { release(): Promise<void> } | undefined;
    try {
      await completer.start();
      await attempts.start();
      await loop.start();
      await waitFor(() => held.calls === 20 && loop.state === 'waitingForSlots', 'every slot busy');

      // Half the attempts end while claims are held up: the loop refills (half a batch free) into a claim that waits.
      lock = await lockTable('threefactor.deliveries');
      held.letGo(10);
      await waitFor(() => loop.state === 'claiming', 'a refill claim');
      await waitFor(async () => (await waitingOnLocks()) > 0, 'the claim to wait on the lock');
      const stopping = loop.stop(Date.now() + 5_000);
      expect(loop.state).toBe('stopping');
      await lock.release();
      lock = undefined;
      await stopping;
      expect(loop.state).toBe('stopped');
      // What the claim returned went back unattempted; nothing more is claimed, whatever wakes it.
      loop.wake();
      loop.slotFreed();
      expect(loop.state).toBe('stopped');
      expect(held.calls).toBe(20);
      expect(attempts.size).toBe(10);

      // Five more finish in time; the other five are still running at the deadline's reserve.
      held.letGo(5);
      await attempts.stop(Date.now() + 600);
      expect(attempts.released).toBe(5);
      expect(attempts.size).toBe(0);
      expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(15);
      expect(outcomes.filter((o) => o === 'released')).toHaveLength(5);
      await completer.stop(Date.now() + 5_000);
      expect(completer.size).toBe(0);
    } finally {
      await lock?.release();
      held.letGo(held.waiting.length);
      await loop.stop(Date.now() + 1_000);
      await attempts.stop(Date.now() + 1_000);
      await completer.stop(Date.now() + 1_000);
    }
    expect(await statuses('loop')).toEqual([
      { status: 'delivered', claims: 1, attempts: 1, locked: false, n: 15 },
      { status: 'pending', claims: 0, attempts: 0, locked: false, n: 70 },
      // Ten handed back by the claim loop, five released by the attempts: pending again, no attempt counted.
      { status: 'pending', claims: 1, attempts: 0, locked: false, n: 15 },
    ]);
  });
});

describe('the completer, stopped under load', () => {
  it('writes every buffered outcome by the deadline', async () => {
    await emitMany(db, 'svc.written', 300);
    const claimed = await claimDeliveries(db.sql, { dispatcherId: 'writer', triggers: [{ trigger: 'written', limit: 300 }], total: 300, leaseMs: 30_000 });
    expect(claimed).toHaveLength(300);
    const policy = retryPolicy(trigger('written', 'svc.written'));
    const completer = new Completer({ sql: db.sql, dispatcherId: 'writer', log, maxBatch: 50, delayMs: 5, onFlushed: () => {} });
    await completer.start();
    claimed.forEach((d, i) =>
      completer.add(i % 3 === 0 ? releasedOutcome(d) : decideOutcome(policy, d, { kind: 'response', status: 200, body: 'ok', retryAfter: null }, new Date(), 1)),
    );
    await completer.stop(Date.now() + 10_000);
    expect(completer.size).toBe(0);
    expect(await statuses('written')).toEqual([
      { status: 'delivered', claims: 1, attempts: 1, locked: false, n: 200 },
      { status: 'pending', claims: 1, attempts: 0, locked: false, n: 100 },
    ]);
  });

  it('stops by the deadline with a write still held up, and reports the outcomes it could not write', async () => {
    await emitMany(db, 'svc.written', 5);
    const claimed = await claimDeliveries(db.sql, { dispatcherId: 'stalled', triggers: [{ trigger: 'written', limit: 5 }], total: 5, leaseMs: 30_000 });
    const { log: captured, lines } = capturedLog();
    const completer = new Completer({ sql: db.sql, dispatcherId: 'stalled', log: captured, maxBatch: 50, delayMs: 5, onFlushed: () => {} });
    const lock = await lockTable('threefactor.delivery_attempts');
    try {
      for (const d of claimed) completer.add(releasedOutcome(d));
      await waitFor(async () => (await waitingOnLocks()) > 0, 'the write to wait on the lock');
      const deadline = Date.now() + 300;
      await completer.stop(deadline);
      expect(Date.now() - deadline).toBeLessThan(1_000);
      expect(completer.size).toBe(5);
      expect(lines.find((l) => l.msg === 'stopped with outcomes unwritten; their deliveries will be re-run when their leases expire')).toMatchObject({ unwritten: 5 });
    } finally {
      await lock.release();
    }
  });
});

describe('the lease keeper', () => {
  it('keeps the leases alive while their outcomes wait to be written, because it stops after the completer', async () => {
    await emitMany(db, 'svc.kept', 2);
    const leaseMs = 600;
    const claimedAt = Date.now();
    const claimed = await claimDeliveries(db.sql, { dispatcherId: 'keeper', triggers: [{ trigger: 'kept', limit: 2 }], total: 2, leaseMs });
    const policy = retryPolicy(trigger('kept', 'svc.kept'));
    const completer = new Completer({ sql: db.sql, dispatcherId: 'keeper', log, maxBatch: 50, delayMs: 5, onFlushed: () => {} });
    const keeper = new LeaseKeeper({ sql: db.sql, dispatcherId: 'keeper', log, leaseMs, held: () => completer.pendingIds() });
    const runtime = new Runtime('leases', [keeper, completer], log);
    await runtime.start();
    const lock = await lockTable('threefactor.delivery_attempts');
    let stopped: Promise<void> | undefined;
    try {
      for (const d of claimed) completer.add(decideOutcome(policy, d, { kind: 'response', status: 204, body: '', retryAfter: null }, new Date(), 1));
      stopped = runtime.stop(Date.now() + 20_000);
      // Another dispatcher's rescuer runs all along; three lease lengths pass while the outcomes cannot be written.
      while (Date.now() < claimedAt + 3 * leaseMs) {
        expect(await reclaimExpiredLeases(db.sql)).toEqual([]);
        await sleep(50);
      }
      expect(completer.size).toBe(2);
    } finally {
      await lock.release();
    }
    await stopped;
    expect(await statuses('kept')).toEqual([{ status: 'delivered', claims: 1, attempts: 1, locked: false, n: 2 }]);
  });
});

describe('the rescuer and the registry refresher', () => {
  it('the rescuer reclaims expired leases until stopped, waits for a pass in flight, then runs no more', async () => {
    let woken = 0;
    const rescuer = new Rescuer({ sql: db.sql, log, everyMs: 20, onReclaimed: () => void woken++ });
    await emitMany(db, 'svc.rescued', 2);
    const [first] = await claimDeliveries(db.sql, { dispatcherId: 'gone', triggers: [{ trigger: 'rescued', limit: 1 }], total: 1, leaseMs: 1 });
    const status = async (id: string) => (await db.sql<{ status: string }[]>`select status::text from threefactor.deliveries where id = ${id}`)[0]!.status;
    await rescuer.start();
    // The reclaim is seen committed before its reply reaches the rescuer, so its report is waited for too.
    await waitFor(async () => (await status(first!.id)) === 'pending' && woken > 0, 'the expired lease reclaimed and reported');

    // A pass held up by a lock is waited for.
    const lock = await lockTable('threefactor.deliveries');
    let settled = false;
    let stopping: Promise<void> | undefined;
    try {
      await waitFor(async () => (await waitingOnLocks()) > 0, 'a pass waiting on the lock');
      stopping = rescuer.stop().then(() => void (settled = true));
      await sleep(100);
      expect(settled).toBe(false);
    } finally {
      await lock.release();
    }
    await stopping;

    const [second] = await claimDeliveries(db.sql, { dispatcherId: 'gone', triggers: [{ trigger: 'rescued', limit: 1 }], total: 1, leaseMs: 1 });
    await sleep(200);
    expect(await status(second!.id)).toBe('running');
  });

  it('the refresher re-reads the definitions on its interval until stopped', async () => {
    const registry = new TriggerRegistry(db.sql, {});
    const refresher = new RegistryRefresher({ registry, log, everyMs: 20 });
    await refresher.start();
    try {
      await syncTriggers(db.sql, [trigger('late', 'svc.late')]);
      await waitFor(() => registry.get('late') !== undefined, 'the new definition read');
    } finally {
      await refresher.stop();
    }
    await syncTriggers(db.sql, [trigger('later', 'svc.later')]);
    await sleep(200);
    expect(registry.get('later')).toBeUndefined();
  });
});
