/**
 * The in-flight attempts (a dispatcher service): runs each delivery the
 * claim loop hands it (delivery/attempt.ts), gives its outcome to the
 * completer, logs it as one line and reports it to the hooks. The claim loop
 * never hands it more than the free slots, so nothing claimed waits here.
 *
 * A 410 Gone from a trigger that pauses on Gone (delivery/outcome.ts) pauses
 * the trigger through onGone before the outcome is written: the delivery
 * goes back to pending only once the claim already skips it, so no other
 * dispatcher picks it up in between. Attempts already running for that
 * trigger finish normally. The pause is logged once and reported to the
 * hooks (onTriggerPaused) by the call that paused it.
 *
 * stop(deadline): takes no more work (what still arrives is handed back),
 * lets the running attempts finish until the deadline minus a reserve (the
 * time to write what they produce), then aborts the rest and releases them:
 * pending again at once, the attempt not counted.
 */
import type { DeliverySource } from '../db/schema/delivery.js';
import type { ClaimedDelivery } from '../events/sql/claimDeliveries.js';
import { describeTarget } from '../events/triggers/describeTarget.js';
import type { ActiveTrigger, TriggerRegistry } from '../events/triggers/registry.js';
import { errorMessage, msUntil, sleep } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import type { CompletedAttempt, Completer } from './completer.js';
import { attemptDelivery, type AttemptContext } from './delivery/attempt.js';
import { decideOutcome, releasedOutcome } from './delivery/outcome.js';

export type DeliveryOutcomeKind = 'delivered' | 'retry' | 'dead' | 'paused' | 'released';

/** Attach metrics here; called once per attempt outcome (and per release). */
export interface DispatcherHooks {
  /** `latencyMs` is the attempt's duration; `detail` (absent for releases) lets metrics compute commit-to-handler latency. */
  onOutcome?(trigger: string, outcome: DeliveryOutcomeKind, latencyMs: number, detail?: OutcomeDetail): void;
  /** This process paused the trigger because its target answered 410 Gone (once per pause, not per delivery). */
  onTriggerPaused?(trigger: string, reason: string): void;
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

export interface AttemptsOptions {
  registry: Pick<TriggerRegistry, 'get'>;
  context: AttemptContext;
  completer: Pick<Completer, 'add'>;
  log: Logger;
  hooks?: DispatcherHooks;
  /** An attempt ended, so its slot is free: the claim loop may refill. */
  onSettled(): void;
  /** A delivery names a trigger this process has not loaded: its definitions should be re-read. */
  onUnknownTrigger(): void;
  /**
   * Pause the trigger (its target answered 410 Gone), keeping any earlier
   * reason; resolves true when this call paused it. Without it (tests of the
   * attempt machinery) a 410 is a failure like any other.
   */
  onGone?(trigger: string, reason: string): Promise<boolean>;
}

/** The longest part of the deadline kept for writing outcomes and releases after the attempts. */
const WRITE_RESERVE_MS = 2_000;

interface InFlight {
  delivery: ClaimedDelivery;
  controller: AbortController;
  released: boolean;
}

class ShutdownAbort extends Error {
  override name = 'ShutdownAbort';
}

export class Attempts implements Service {
  readonly name = 'attempts';
  /** How many running attempts the last stop() aborted and released. */
  released = 0;
  private readonly inflight = new Map<string, InFlight>();
  /** Slots held per trigger for deliveries this process is making for itself (reserve()). */
  private readonly reserved = new Map<string, number>();
  private closed = false;
  /** Set while stop() waits for the running attempts to finish. */
  private emptied: (() => void) | null = null;

  constructor(private readonly o: AttemptsOptions) {}

  get size(): number {
    return this.inflight.size;
  }

  /** Deliveries being attempted: their leases must be kept alive. */
  ids(): IterableIterator<string> {
    return this.inflight.keys();
  }

  /** Attempts running per trigger, and slots reserved, for the refill rule's fair shares. */
  inFlightByTrigger(): Map<string, number> {
    const counts = new Map(this.reserved);
    for (const { delivery } of this.inflight.values()) counts.set(delivery.triggerName, (counts.get(delivery.triggerName) ?? 0) + 1);
    return counts;
  }

  /**
   * Holds `n` slots of `trigger` for deliveries this process is writing as leased to itself (eager step calls), so
   * that no claim fills them first; each is taken by runReserved() or given back by unreserve(). False once stopping.
   */
  reserve(trigger: string, n: number): boolean {
    if (this.closed || n <= 0) return false;
    this.reserved.set(trigger, (this.reserved.get(trigger) ?? 0) + n);
    return true;
  }

  /** Gives back reserved slots that will not be used (the batch failed, or made fewer deliveries). */
  unreserve(trigger: string, n: number): void {
    if (n <= 0 || !this.release(trigger, n)) return;
    this.o.onSettled();
  }

  /** Runs a delivery under a slot reserve() held for it. */
  runReserved(d: ClaimedDelivery): void {
    this.release(d.triggerName, 1);
    this.run(d);
  }

  private release(trigger: string, n: number): boolean {
    const held = this.reserved.get(trigger) ?? 0;
    if (held === 0) return false;
    if (held <= n) this.reserved.delete(trigger);
    else this.reserved.set(trigger, held - n);
    return true;
  }

  run(d: ClaimedDelivery): void {
    const trigger = this.o.registry.get(d.triggerName);
    if (this.closed || !trigger) {
      // Claimed as the drain began, or a trigger this process has not loaded yet: hand it back untouched.
      this.handBack(d);
      if (!trigger) this.o.onUnknownTrigger();
      return;
    }
    const entry: InFlight = { delivery: d, controller: new AbortController(), released: false };
    this.inflight.set(d.id, entry);
    const startedAt = new Date();
    const t0 = performance.now();
    attemptDelivery(trigger, d, this.o.context, entry.controller.signal).then(
      (result) => {
        if (entry.released) return;
        const ms = performance.now() - t0;
        const rules = this.o.onGone ? trigger.outcome : { ...trigger.outcome, pauseOnGone: false };
        const done = decideOutcome(trigger.policy, d, result, startedAt, ms, rules);
        if (done.attempt?.outcome === 'paused') this.pauseThenFinish(entry, trigger, done, ms, startedAt, () => decideOutcome(trigger.policy, d, result, startedAt, ms, { ...rules, pauseOnGone: false }));
        else this.finish(entry, done, ms, startedAt);
      },
      (err: unknown) => {
        if (entry.released) return;
        this.inflight.delete(d.id);
        if (!(err instanceof ShutdownAbort)) this.o.log.error({ err: errorMessage(err), delivery: d.id }, 'delivery attempt crashed; releasing it');
        this.handBack(d);
        this.o.hooks?.onOutcome?.(d.triggerName, 'released', performance.now() - t0);
        this.settled();
      },
    );
  }

  private finish(entry: InFlight, done: CompletedAttempt, ms: number, startedAt: Date): void {
    this.inflight.delete(entry.delivery.id);
    this.o.completer.add(done);
    this.report(entry.delivery, done, ms, startedAt);
    this.settled();
  }

  /**
   * Writes the pause, then the delivery's outcome; it stays in flight (its
   * lease kept) meanwhile. If the pause cannot be written the 410 counts as
   * an ordinary failure (`unpaused`), so the delivery is not left claimable
   * with its attempt uncounted, to be sent again at once.
   */
  private pauseThenFinish(entry: InFlight, trigger: ActiveTrigger, done: CompletedAttempt, ms: number, startedAt: Date, unpaused: () => CompletedAttempt): void {
    const d = entry.delivery;
    const onGone = this.o.onGone;
    if (!onGone) return this.finish(entry, unpaused(), ms, startedAt);
    const reason = `gone: HTTP 410 from ${describeTarget(trigger.definition.target)}`;
    onGone(trigger.name, reason).then(
      (pausedNow) => {
        if (pausedNow) {
          this.o.log.warn({ trigger: trigger.name, reason, delivery: d.id, event: d.event.id }, 'trigger paused: its target answered 410 Gone; resume it once the target is back');
          this.o.hooks?.onTriggerPaused?.(trigger.name, reason);
        }
        // Released by a drain meanwhile: the hand-back already put it back to pending, uncounted.
        if (!entry.released) this.finish(entry, done, ms, startedAt);
      },
      (err: unknown) => {
        this.o.log.error({ err: errorMessage(err), trigger: trigger.name, delivery: d.id }, 'could not pause the trigger after 410 Gone; retrying the delivery instead');
        if (!entry.released) this.finish(entry, unpaused(), ms, startedAt);
      },
    );
  }

  /** Gives a claimed delivery back unattempted (pending at once, the attempt not counted). */
  handBack(d: ClaimedDelivery): void {
    this.o.completer.add(releasedOutcome(d));
  }

  async start(): Promise<void> {}

  async stop(deadline: number): Promise<void> {
    this.closed = true;
    const reserve = Math.min(WRITE_RESERVE_MS, msUntil(deadline) / 4);
    if (this.inflight.size > 0) await this.untilEmpty(deadline - reserve);
    const releasing = [...this.inflight.values()];
    for (const entry of releasing) {
      entry.released = true;
      entry.controller.abort(new ShutdownAbort('dispatcher draining'));
      this.handBack(entry.delivery);
      this.o.hooks?.onOutcome?.(entry.delivery.triggerName, 'released', 0);
    }
    this.inflight.clear();
    this.released = releasing.length;
  }

  private settled(): void {
    this.o.onSettled();
    if (this.emptied !== null && this.inflight.size === 0) this.emptied();
  }

  private async untilEmpty(by: number): Promise<void> {
    const giveUp = new AbortController();
    const emptied = new Promise<void>((resolve) => (this.emptied = resolve));
    try {
      await Promise.race([emptied, sleep(msUntil(by), { signal: giveUp.signal })]);
    } finally {
      giveUp.abort();
      this.emptied = null;
    }
  }

  private report(d: ClaimedDelivery, done: CompletedAttempt, ms: number, startedAt: Date): void {
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
    if (a.outcome === 'delivered') this.o.log.info(fields, 'delivery attempt');
    else if (a.outcome === 'retry') this.o.log.warn(fields, 'delivery attempt failed; will retry');
    else if (a.outcome === 'paused') this.o.log.warn(fields, 'delivery attempt answered 410 Gone; it waits for the trigger to be resumed');
    else if (a.httpStatus !== null && this.o.registry.get(d.triggerName)?.outcome.permanentStatuses.includes(a.httpStatus)) this.o.log.error(fields, 'delivery dead: a permanent status for this trigger');
    else this.o.log.error(fields, 'delivery dead after its last attempt');
    this.o.hooks?.onOutcome?.(d.triggerName, a.outcome, ms, { attempt: a.attempt, eventCreatedAt: d.event.createdAt, startedAt, source: d.source });
  }
}
