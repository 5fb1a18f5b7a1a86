/**
 * The dispatcher: claims due deliveries, runs them with bounded concurrency,
 * and records their outcomes. Any number of dispatchers can share one
 * database; each delivery is leased to one at a time.
 *
 * - Wake-ups: one LISTEN (threefactor_events for new events,
 *   threefactor_deliveries for resume/redeliver/replay) on the process's
 *   listen connection, a catch-up claim after every (re)LISTEN, and a
 *   polling backstop that also hands back expired leases.
 * - Claims are batched and never exceed the free concurrency slots, so the
 *   in-memory queue is bounded and no claimed delivery waits in memory.
 * - Leases are short and kept alive by a heartbeat: a SIGKILLed
 *   dispatcher's deliveries are claimable again within one lease.
 * - Completions are batched (dispatcher/completer.ts).
 * - stop(): stop claiming, let in-flight attempts finish until the deadline,
 *   release the rest (back to pending, attempt not counted), flush, return.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/client.js';
import type { DeliverySource } from '../db/schema/delivery.js';
import type { Logger } from '../log.js';
import { attemptDelivery } from './delivery/attempt.js';
import { decideOutcome } from './delivery/outcome.js';
import { webhookSigner } from './delivery/signer.js';
import { Completer, errorMessage, sleep, type CompletedAttempt } from './completer.js';
import { claimDeliveries, type ClaimedDelivery } from '../events/sql/claimDeliveries.js';
import { extendLeases } from '../events/sql/extendLeases.js';
import { reclaimExpiredLeases } from '../events/sql/reclaimExpiredLeases.js';
import { DELIVERIES_CHANNEL, EVENTS_CHANNEL } from '../events/channels.js';
import type { InProcessHandler, TriggerDefinition } from '../events/triggers/triggerDefinition.js';
import { TriggerRegistry } from '../events/triggers/registry.js';
import { syncTriggers } from '../events/triggers/sync.js';

export type DeliveryOutcomeKind = 'delivered' | 'retry' | 'dead' | 'released';

/** Attach metrics here; called once per attempt outcome (and per release). */
export interface DispatcherHooks {
  /** `latencyMs` is the attempt's duration; `detail` (absent for releases) lets metrics compute commit-to-handler latency. */
  onOutcome?(trigger: string, outcome: DeliveryOutcomeKind, latencyMs: number, detail?: OutcomeDetail): void;
}

export interface OutcomeDetail {
  /** 1-based number of the attempt that produced this outcome. */
  attempt: number;
  /** The event's created_at. */
  eventCreatedAt: string | Date;
  /** When the attempt started (handler called / request sent). */
  startedAt: Date;
  /** How the delivery came to be; replays and manual runs of old events are not latency. */
  source: DeliverySource;
}

export interface DispatcherOptions {
  database: Pick<Database, 'sql'>;
  log: Logger;
  /** Synced into threefactor.event_triggers at start (upsert, idempotent). */
  triggers?: TriggerDefinition[];
  /** Registry for triggers with target { kind: 'inProcess', handler }. */
  inProcessHandlers?: Record<string, InProcessHandler>;
  /** Standard Webhooks secret, `whsec_<base64>`. */
  webhookSecret: string;
  batchSize?: number;
  concurrency?: number;
  pollMs?: number;
  leaseMs?: number;
  /** Completion batching window. */
  flushMs?: number;
  /** Where webhook_from_env and header value_from_env are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  hooks?: DispatcherHooks;
  id?: string;
}

export interface Dispatcher {
  readonly id: string;
  /** Claim now (e.g. after writing events in-process). */
  wake(): void;
  /** Drain and stop; resolves once every outcome is written or the deadline passed. */
  stop(opts?: { deadlineMs?: number }): Promise<void>;
}

export const DISPATCHER_DEFAULTS = { batchSize: 50, concurrency: 50, pollMs: 1_000, leaseMs: 10_000, flushMs: 5 };

/** How often the trigger definitions are re-read (changes by other processes, pause state is read by the claim itself). */
const REGISTRY_REFRESH_MS = 5_000;

interface InFlight {
  delivery: ClaimedDelivery;
  controller: AbortController;
  released: boolean;
}

class ShutdownAbort extends Error {
  override name = 'ShutdownAbort';
}

export function newDispatcherId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function startDispatcher(opts: DispatcherOptions): Promise<Dispatcher> {
  const { sql } = opts.database;
  const id = opts.id ?? newDispatcherId();
  const log = opts.log.child({ component: 'dispatcher', dispatcherId: id });
  const batchSize = opts.batchSize ?? DISPATCHER_DEFAULTS.batchSize;
  const concurrency = opts.concurrency ?? DISPATCHER_DEFAULTS.concurrency;
  const pollMs = opts.pollMs ?? DISPATCHER_DEFAULTS.pollMs;
  const leaseMs = opts.leaseMs ?? DISPATCHER_DEFAULTS.leaseMs;
  const handlers = opts.inProcessHandlers ?? {};
  const lowWater = Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 2));
  const attemptContext = { signer: webhookSigner(opts.webhookSecret), env: opts.env ?? process.env, handlers };

  if (opts.triggers) await syncTriggers(sql, opts.triggers, log);
  const registry = new TriggerRegistry(sql, handlers);
  await registry.refresh();
  if (registry.invalid.length) log.error({ triggers: registry.invalid }, 'event triggers with invalid definitions are not delivered');

  const inflight = new Map<string, InFlight>();
  let stopping = false;
  let claiming: Promise<void> | null = null;
  let wakeRequested = false;
  /** The last claim filled its batch or the slots were full: more may be waiting. */
  let moreLikely = false;
  let claimFailures = 0;
  let wakeTimer: NodeJS.Timeout | null = null;
  let wakeAt = Infinity;

  const completer = new Completer({
    sql,
    dispatcherId: id,
    log,
    maxBatch: batchSize,
    delayMs: opts.flushMs ?? DISPATCHER_DEFAULTS.flushMs,
    onFlushed(batch, applied) {
      const lost = batch.filter((c) => !applied.has(c.outcome.id));
      if (lost.length) log.warn({ deliveries: lost.map((c) => c.outcome.id) }, 'lease lost before the outcome was written; another dispatcher re-ran them');
      // Ordered successors become claimable only now; a retry sets its own timer.
      if (moreLikely || batch.some((c) => c.outcome.status !== 'pending' || !c.outcome.counted)) wake();
      for (const c of batch) if (c.outcome.status === 'pending' && c.outcome.delayMs > 0) wakeIn(c.outcome.delayMs);
    },
  });

  function wake(): void {
    if (stopping) return;
    wakeRequested = true;
    claiming ??= claimLoop().finally(() => {
      claiming = null;
      // A wake-up that arrived after the loop's last check (a handler
      // finishing while the loop was returning) must not be lost: it is
      // often the one that would refill the slots.
      if (wakeRequested) wake();
    });
  }

  /** A wake-up at a known future time (a retry this process scheduled), if sooner than the next poll. */
  function wakeIn(ms: number): void {
    if (stopping || ms >= pollMs) return;
    const at = Date.now() + ms;
    if (at >= wakeAt) return;
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = setTimeout(() => {
      wakeTimer = null;
      wakeAt = Infinity;
      wake();
    }, ms + 5);
  }

  async function claimLoop(): Promise<void> {
    while (wakeRequested && !stopping) {
      wakeRequested = false;
      const free = concurrency - inflight.size;
      // Refill in batches, not one slot at a time: while work is in flight,
      // wait until at least half a batch of slots is free (a low-water mark).
      if (free <= 0 || (inflight.size > 0 && free < lowWater)) {
        moreLikely = true;
        return;
      }
      const triggers = registry.servableNames();
      if (triggers.length === 0) return;
      const limit = Math.min(free, batchSize);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await claimDeliveries(sql, { dispatcherId: id, triggers, limit, leaseMs });
        claimFailures = 0;
      } catch (err) {
        claimFailures += 1;
        if (claimFailures === 1 || claimFailures % 20 === 0) log.warn({ err: errorMessage(err), failures: claimFailures }, 'claim failed; will retry');
        wakeIn(Math.min(pollMs - 1, 100 * 2 ** Math.min(claimFailures, 5)));
        // Back off: wake-ups during the failed claim wait for the timer.
        wakeRequested = false;
        return;
      }
      moreLikely = claimed.length === limit;
      if (moreLikely) wakeRequested = true;
      for (const d of claimed) start(d);
    }
  }

  function start(d: ClaimedDelivery): void {
    const trigger = registry.get(d.triggerName);
    if (stopping || !trigger) {
      // Claimed as the drain began, or a trigger this process has not loaded yet: hand it back untouched.
      completer.add(release(d));
      if (!trigger) void registry.refresh().catch(() => {});
      return;
    }
    const entry: InFlight = { delivery: d, controller: new AbortController(), released: false };
    inflight.set(d.id, entry);
    const startedAt = new Date();
    const t0 = performance.now();
    attemptDelivery(trigger, d, attemptContext, entry.controller.signal).then(
      (result) => {
        if (entry.released) return;
        inflight.delete(d.id);
        const ms = performance.now() - t0;
        const done = decideOutcome(trigger.policy, d, result, startedAt, ms);
        completer.add(done);
        report(d, done, ms, startedAt);
        if (moreLikely) wake();
      },
      (err: unknown) => {
        if (entry.released) return;
        inflight.delete(d.id);
        if (!(err instanceof ShutdownAbort)) log.error({ err: errorMessage(err), delivery: d.id }, 'delivery attempt crashed; releasing it');
        completer.add(release(d));
        opts.hooks?.onOutcome?.(d.triggerName, 'released', performance.now() - t0);
      },
    );
  }

  function release(d: ClaimedDelivery): CompletedAttempt {
    return { outcome: { id: d.id, claims: d.claims, status: 'pending', counted: false, delayMs: 0, httpStatus: null, error: null } };
  }

  function report(d: ClaimedDelivery, done: CompletedAttempt, ms: number, startedAt: Date): void {
    const a = done.attempt!;
    const fields = {
      trigger: d.triggerName,
      delivery: d.id,
      event: d.event.id,
      eventType: d.event.type,
      attempt: a.attempt,
      maxAttempts: d.maxAttempts,
      status: a.httpStatus,
      ms: Math.round(ms * 10) / 10,
      outcome: a.outcome,
      ...(a.error ? { error: a.error } : {}),
      ...(a.outcome === 'retry' ? { retryInMs: done.outcome.delayMs } : {}),
    };
    if (a.outcome === 'delivered') log.info(fields, 'delivery attempt');
    else if (a.outcome === 'retry') log.warn(fields, 'delivery attempt failed; will retry');
    else log.error(fields, 'delivery dead after its last attempt');
    opts.hooks?.onOutcome?.(d.triggerName, a.outcome, ms, { attempt: a.attempt, eventCreatedAt: d.event.createdAt, startedAt, source: d.source });
  }

  /**
   * Keeps the leases of in-flight and not-yet-written deliveries alive. A
   * lease lost anyway (a long stall) shows up when its outcome is written
   * and not applied (see onFlushed).
   */
  async function heartbeat(): Promise<void> {
    const ids = [...inflight.keys(), ...completer.pendingIds()];
    if (ids.length === 0) return;
    try {
      await extendLeases(sql, id, ids, leaseMs);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'lease heartbeat failed');
    }
  }

  let lastRefresh = Date.now();
  async function poll(): Promise<void> {
    try {
      const reclaimed = await reclaimExpiredLeases(sql);
      if (reclaimed.length) {
        log.warn(
          { count: reclaimed.length, from: [...new Set(reclaimed.map((r) => r.lostBy))] },
          'reclaimed deliveries whose lease expired (their dispatcher stopped without releasing them)',
        );
      }
      if (Date.now() - lastRefresh >= REGISTRY_REFRESH_MS) {
        lastRefresh = Date.now();
        await registry.refresh();
      }
    } catch (err) {
      log.debug({ err: errorMessage(err) }, 'poll failed');
    }
    wake();
  }

  const listeners = await Promise.all(
    [EVENTS_CHANNEL, DELIVERIES_CHANNEL].map((channel) =>
      // onlisten runs after every (re)LISTEN: notifications sent while disconnected are lost, so catch up.
      sql.listen(channel, () => wake(), () => wake()),
    ),
  );
  const pollTimer = setInterval(() => void poll(), pollMs);
  const heartbeatTimer = setInterval(() => void heartbeat(), Math.max(250, Math.floor(leaseMs / 3)));
  log.info({ concurrency, batchSize, pollMs, leaseMs, triggers: registry.servableNames() }, 'dispatcher started');
  wake();

  let stopped: Promise<void> | null = null;
  async function stop(deadlineMs: number): Promise<void> {
    stopping = true;
    const deadline = Date.now() + deadlineMs;
    clearInterval(pollTimer);
    if (wakeTimer) clearTimeout(wakeTimer);
    await Promise.allSettled(listeners.map((l) => l.unlisten()));
    await claiming;
    // Leave time at the end to write the releases and outcomes.
    const reserve = Math.min(2_000, deadlineMs / 4);
    while (inflight.size > 0 && Date.now() < deadline - reserve) await sleep(20);
    const releasing = [...inflight.values()];
    for (const entry of releasing) {
      entry.released = true;
      entry.controller.abort(new ShutdownAbort('dispatcher draining'));
      completer.add(release(entry.delivery));
      opts.hooks?.onOutcome?.(entry.delivery.triggerName, 'released', 0);
    }
    inflight.clear();
    const unwritten = await completer.drain(deadline);
    clearInterval(heartbeatTimer);
    if (unwritten) log.error({ unwritten }, 'stopped with outcomes unwritten; their deliveries will be re-run when their leases expire');
    log.info({ released: releasing.length }, 'dispatcher stopped');
  }

  return {
    id,
    wake,
    stop: (o) => (stopped ??= stop(o?.deadlineMs ?? 10_000)),
  };
}
