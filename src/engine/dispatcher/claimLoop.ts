/**
 * The claim loop (the dispatcher's producer, a service): claims due
 * deliveries in batches and hands them to the attempts, never more than the
 * free slots, each trigger within the fair share the refill rule
 * (./refill.ts) gives it. It is an explicit state machine, and every wake-up
 * is an event into it, so a wake-up is never lost whatever state it arrives
 * in.
 *
 * States (`state`, one at a time):
 * - `starting`: LISTEN is being set up. Wake-ups need no record: start()
 *   ends with a claim.
 * - `idle`: nothing is known to be due; the next wake-up claims.
 * - `claiming`: one claim statement is in flight. Wake-ups meanwhile fold
 *   into one more claim right after it (`again`).
 * - `waitingForSlots`: more is likely due (the last claim filled its batch,
 *   some trigger got its whole limit or was held by its cap or rate, or a
 *   wake-up came) but the refill rule asks for more free slots first; every
 *   attempt that ends asks for a re-check, made once the current event-loop
 *   turn is over (attempts that end together are counted together, so the
 *   refill is a full batch).
 * - `waitingForCompleter`: the outcomes not yet written reached their bound
 *   (MAX_UNWRITTEN_OUTCOMES, ./completer.ts): nothing is claimed until a
 *   write lands (outcomesWritten), so a completer that falls behind or
 *   cannot write holds the claims back, rather than the running set and the
 *   buffer growing without end. Wake-ups meanwhile need no record: the
 *   write's landing asks every trigger.
 * - `backingOff`: the last claim failed; a timer claims again (100 ms
 *   doubling, at most 3.2 s and less than a poll). Wake-ups meanwhile need no
 *   record: the timer claims anyway.
 * - `stopping`: stop() was called; nothing more is claimed, and a claim
 *   still in flight hands back whatever it returns (released: pending again,
 *   the attempt not counted).
 * - `stopped`: before start() and after stop(); wake-ups are ignored.
 *
 * Events: wake() comes from a NOTIFY on the deliveries channel (routing
 * created one, or resume/redeliver/replay/manual made one claimable), every (re)LISTEN
 * (notifications sent while disconnected are lost, so catch up), the poll
 * backstop every pollMs, a retry or rate-limit timer (wakeIn,
 * ./retryTimers.ts), the rescuer, a written final outcome (ordered
 * successors become claimable) and Dispatcher.wake(); slotFreed() from
 * every attempt that ends; moreDueFor(triggers) from every written final
 * outcome or release (ordered successors, released deliveries).
 *
 * A wake-up asks every servable trigger; slotFreed and moreDueFor ask only
 * the triggers known to have more waiting (`backlogged`: the last claim took
 * their whole limit, a cap or rate held them back, or moreDueFor named
 * them), so an idle trigger costs no claim at every refill.
 *
 * | state \ event         | wake     | slotFreed | moreDueFor | claim returned | claim failed | backoff timer | outcomesWritten |
 * |-----------------------|----------|-----------|------------|----------------|--------------|---------------|-----------------|
 * | `idle`                | evaluate | -         | evaluate   |                |              |               | -               |
 * | `claiming`            | again    | remember  | remember   | see ²          | `backingOff` |               | -               |
 * | `waitingForSlots`     | evaluate | evaluate¹ | evaluate   |                |              |               | -               |
 * | `waitingForCompleter` | -        | -         | remember   |                |              |               | evaluate        |
 * | `backingOff`          | -        | -         | -          |                |              | evaluate      | -               |
 * | `stopping`            | -        | -         | -          | hand all back  | -            |               | -               |
 *
 * ¹ after the current turn (setImmediate), once for all the slots freed in it.
 * ² a wake-up came (again): evaluate; the plan's total claimed, moreDueFor
 * came, or a slot was freed during the claim (slotFreed in `claiming` is
 * only remembered) with a trigger backlogged: evaluate the backlogged; else
 * a trigger is backlogged: `waitingForSlots`; else `idle`.
 * evaluate: the unwritten outcomes at their bound → `waitingForCompleter`;
 * no trigger this process can serve → `idle`; the refill rule
 * gives no plan → `waitingForSlots`; otherwise claim by the plan → `claiming`.
 * stop() goes from any state to `stopping`, then `stopped` once the claim in
 * flight (if any) has settled.
 */
import type { Sql } from '../db/client.js';
import { DELIVERIES_CHANNEL } from '../events/channels.js';
import { claimDeliveries, type ClaimedDelivery } from '../events/sql/claimDeliveries.js';
import { claimLimitedDeliveries } from '../events/sql/claimLimitedDeliveries.js';
import type { TriggerRegistry } from '../events/triggers/registry.js';
import type { TriggerDefinition } from '../events/triggers/triggerDefinition.js';
import { errorMessage, msUntil, sleep } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import type { Attempts } from './attempts.js';
import { MAX_UNWRITTEN_OUTCOMES } from './completer.js';
import type { ClaimPlan, RefillRule } from './refill.js';
import { RetryTimers } from './retryTimers.js';

export type ClaimLoopState = 'starting' | 'idle' | 'claiming' | 'waitingForSlots' | 'waitingForCompleter' | 'backingOff' | 'stopping' | 'stopped';

export interface ClaimLoopOptions {
  sql: Sql;
  dispatcherId: string;
  log: Logger;
  registry: Pick<TriggerRegistry, 'servableNames' | 'get'>;
  attempts: Pick<Attempts, 'inFlightByTrigger' | 'run' | 'handBack'>;
  /** Outcomes handed on and not yet written (the completer's size): at MAX_UNWRITTEN_OUTCOMES, claims wait. */
  unwritten(): number;
  refill: RefillRule;
  /** The backstop: claim at least this often without a notification. */
  pollMs: number;
  leaseMs: number;
}

/** UNLISTEN waits for the listen connection: during an outage, stop without it after this long. */
const UNLISTEN_GIVE_UP_MS = 1_000;

type Listening = Awaited<ReturnType<Sql['listen']>>;

interface ClaimResult {
  claimed: ClaimedDelivery[];
  /** Triggers that got fewer than their limit because of their cap or rate limit. */
  held: ReadonlySet<string>;
}

/** A cap or a rate limit holds across dispatchers, so its claim takes the trigger's row lock. */
export function isLimited(def: TriggerDefinition | undefined): boolean {
  return def?.concurrency !== undefined || def?.ratePerSecond !== undefined;
}

export class ClaimLoop implements Service {
  readonly name = 'claim loop';
  private current: ClaimLoopState = 'stopped';
  /** A wake-up arrived during the claim in flight. */
  private again = false;
  private failures = 0;
  private claim: Promise<void> | null = null;
  /** The plan of the claim in flight: what it may still hand the attempts. */
  private claiming: ClaimPlan | null = null;
  private listeners: Listening[] = [];
  private backstop: NodeJS.Timeout | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  private readonly timers = new RetryTimers(() => this.wake());
  /** Triggers likely to have more due than their last claim took (see claimed()). */
  private readonly backlogged = new Set<string>();
  /** Triggers said to have more due while a claim was in flight: backlogged whatever that claim returns. */
  private readonly moreDueDuringClaim = new Set<string>();
  private refillScheduled = false;
  /** An attempt ended while the claim in flight ran: its slot is looked for when the claim returns. */
  private freedDuringClaim = false;
  private stopped: Promise<void> | null = null;

  constructor(private readonly o: ClaimLoopOptions) {}

  get state(): ClaimLoopState {
    return this.current;
  }

  /**
   * Slots the claim in flight may fill, per trigger (at most each trigger's limit; empty when no claim is in
   * flight): a producer other than the claim (eager step calls, ./eagerCalls.ts) counts them as taken.
   */
  claimingByTrigger(): Map<string, number> {
    return new Map(this.claiming?.triggers.map(({ trigger, limit }) => [trigger, limit]));
  }

  /** There may be deliveries to claim. */
  readonly wake = (): void => {
    switch (this.current) {
      case 'idle':
      case 'waitingForSlots':
        this.evaluate();
        return;
      case 'claiming':
        this.again = true;
        return;
      default:
        return;
    }
  };

  /**
   * An attempt ended: its slot is free. The refill is evaluated once the
   * current turn of the event loop is over, not at once: attempts often end
   * together (a batch of fast handlers, a flushed completion), and one
   * evaluation after all of them claims a full batch where evaluating at the
   * low-water mark would claim half of one, costing a claim and a completion
   * statement per half batch (measured: 49 vs 25 deliveries per claim).
   */
  slotFreed(): void {
    if (this.current === 'claiming') this.freedDuringClaim = true;
    if (this.current !== 'waitingForSlots' || this.refillScheduled) return;
    this.refillScheduled = true;
    setImmediate(this.refillDue);
  }

  private readonly refillDue = (): void => {
    this.refillScheduled = false;
    if (this.current === 'waitingForSlots') this.evaluate('slots');
  };

  /**
   * These triggers may have more due now (their ordered successors, a
   * release): claim for them as for a backlog, without asking every trigger.
   */
  moreDueFor(triggers: readonly string[]): void {
    if (triggers.length === 0) return;
    switch (this.current) {
      case 'idle':
      case 'waitingForSlots':
        for (const t of triggers) this.backlogged.add(t);
        this.evaluate('slots');
        return;
      case 'claiming':
        for (const t of triggers) this.moreDueDuringClaim.add(t);
        return;
      case 'waitingForCompleter':
        for (const t of triggers) this.backlogged.add(t);
        return;
      default:
        // Starting, backing off: the next claim asks every trigger anyway. Stopping: nothing more.
        return;
    }
  }

  /** A completion write landed: the unwritten outcomes may be under their bound again. */
  outcomesWritten(): void {
    if (this.current === 'waitingForCompleter') this.evaluate();
  }

  /** A wake-up in `ms` (a retry this process scheduled, due then by the database's clock), whatever the poll interval. */
  wakeIn(ms: number): void {
    if (this.current === 'stopping' || this.current === 'stopped') return;
    this.timers.add(ms);
  }

  async start(): Promise<void> {
    this.current = 'starting';
    // Deliveries, not events: an event that routes nowhere (an engine event) must not cost a claim (events/channels.ts).
    const listening = await Promise.allSettled([DELIVERIES_CHANNEL].map((channel) => this.o.sql.listen(channel, this.wake, this.wake)));
    this.listeners = listening.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []));
    const failed = listening.find((l) => l.status === 'rejected');
    if (failed) {
      await this.unlisten(Date.now() + UNLISTEN_GIVE_UP_MS);
      this.current = 'stopped';
      throw failed.reason;
    }
    this.backstop = setInterval(this.wake, this.o.pollMs);
    this.current = 'idle';
    this.evaluate();
  }

  stop(deadline: number): Promise<void> {
    return (this.stopped ??= this.stopClaiming(deadline));
  }

  private async stopClaiming(deadline: number): Promise<void> {
    this.current = 'stopping';
    if (this.backstop) clearInterval(this.backstop);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.timers.close();
    await this.unlisten(Math.min(deadline, Date.now() + UNLISTEN_GIVE_UP_MS));
    await this.claim;
    this.current = 'stopped';
  }

  /**
   * `wake`: something may be due for any trigger (a wake-up, a catch-up, a
   * backoff over), so every servable trigger is asked. `slots`: slots came
   * free, so only the triggers known to have more waiting are asked; one
   * whose last claim came back short waits for a wake-up, rather than cost
   * an empty claim at every refill (measured: an idle second trigger took a
   * drain from ~6,300/s to ~4,000/s).
   */
  private evaluate(cause: 'wake' | 'slots' = 'wake'): void {
    if (this.o.unwritten() >= MAX_UNWRITTEN_OUTCOMES) {
      this.current = 'waitingForCompleter';
      return;
    }
    const servable = this.o.registry.servableNames();
    for (const t of this.backlogged) if (!servable.includes(t)) this.backlogged.delete(t);
    if (servable.length === 0 || (cause === 'slots' && this.backlogged.size === 0)) {
      this.current = 'idle';
      return;
    }
    const plan = this.o.refill.plan(servable, this.o.attempts.inFlightByTrigger(), cause === 'slots' ? this.backlogged : undefined);
    if (plan === null) {
      this.current = 'waitingForSlots';
      return;
    }
    this.current = 'claiming';
    this.again = false;
    this.freedDuringClaim = false;
    this.claiming = plan;
    this.claim = this.claimPlan(plan).then(
      (result) => {
        this.claiming = null;
        this.claimed(result, plan);
      },
      (err: unknown) => {
        this.claiming = null;
        this.claimFailed(err);
      },
    );
  }

  /**
   * Triggers with a cap or a rate limit are claimed first, in their own
   * transaction (../events/sql/claimLimitedDeliveries.ts); the others share
   * what is left of the plan's total in one statement. Without limited
   * triggers (the default) that is one statement, as before.
   */
  private async claimPlan(plan: ClaimPlan): Promise<ClaimResult> {
    const { sql, dispatcherId, leaseMs } = this.o;
    const limited = plan.triggers.filter((t) => isLimited(this.o.registry.get(t.trigger)?.definition));
    let claimed: ClaimedDelivery[] = [];
    const held = new Set<string>();
    if (limited.length) {
      const result = await claimLimitedDeliveries(sql, { dispatcherId, triggers: limited, total: plan.total, leaseMs });
      claimed = result.claimed;
      for (const h of result.held) {
        held.add(h.trigger);
        if (h.nextTokenInMs !== null) this.timers.add(h.nextTokenInMs);
      }
    }
    const rest = plan.triggers.filter((t) => !limited.includes(t));
    const total = plan.total - claimed.length;
    if (rest.length && total > 0) claimed = claimed.concat(await claimDeliveries(sql, { dispatcherId, triggers: rest, total, leaseMs }));
    return { claimed, held };
  }

  private claimed({ claimed, held }: ClaimResult, plan: ClaimPlan): void {
    this.failures = 0;
    if (this.current === 'stopping') {
      for (const d of claimed) this.o.attempts.handBack(d);
      return;
    }
    const got = new Map<string, number>();
    for (const d of claimed) {
      got.set(d.triggerName, (got.get(d.triggerName) ?? 0) + 1);
      this.o.attempts.run(d);
    }
    // A trigger that got its whole limit, or was held back by its cap or
    // rate, probably has more waiting: once slots free, claim again even if
    // nothing wakes us (a cap freed by another dispatcher is seen at the
    // next poll; a rate's next token has its timer).
    for (const { trigger, limit } of plan.triggers) {
      if ((got.get(trigger) ?? 0) >= limit || held.has(trigger)) this.backlogged.add(trigger);
      else this.backlogged.delete(trigger);
    }
    const moreDue = this.moreDueDuringClaim.size > 0;
    for (const t of this.moreDueDuringClaim) this.backlogged.add(t);
    this.moreDueDuringClaim.clear();
    if (this.again) this.evaluate('wake');
    // Slots freed while this claim was in flight are looked for now, not left to the next slotFreed: if they
    // were all of them, no attempt is left to end and ask, and waiting lasted until the poll (a drain beside
    // an idle trigger ran at ~4,500/s instead of ~10,000/s). Only then: a trigger held by its cap stays
    // backlogged, and re-evaluating it at every claim would spin.
    else if (claimed.length === plan.total || moreDue || (this.freedDuringClaim && this.backlogged.size > 0)) this.evaluate('slots');
    else this.current = this.backlogged.size > 0 ? 'waitingForSlots' : 'idle';
  }

  private claimFailed(err: unknown): void {
    if (this.current === 'stopping') return;
    this.failures += 1;
    if (this.failures === 1 || this.failures % 20 === 0) this.o.log.warn({ err: errorMessage(err), failures: this.failures }, 'claim failed; will retry');
    this.current = 'backingOff';
    this.backoffTimer = setTimeout(this.backoffOver, Math.min(this.o.pollMs - 1, 100 * 2 ** Math.min(this.failures, 5)));
  }

  private readonly backoffOver = (): void => {
    this.backoffTimer = null;
    if (this.current === 'backingOff') this.evaluate();
  };

  private async unlisten(giveUpAt: number): Promise<void> {
    const giveUp = new AbortController();
    await Promise.race([Promise.allSettled(this.listeners.map((l) => l.unlisten())), sleep(msUntil(giveUpAt), { signal: giveUp.signal })]);
    giveUp.abort();
    this.listeners = [];
  }
}
