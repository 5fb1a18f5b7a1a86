/**
 * The workflow runner (a service of the dispatcher's Runtime, so it runs in
 * `dispatch` and in the all-in-one `start`): claims instances that are ready
 * or due, advances them (./advance.ts) and writes the whole batch in one
 * transaction. A crash mid-batch rolls the batch back: nothing is
 * half-advanced, and the next claim (here or in another process) takes the
 * same instances up again. Any number of runners share the work through the
 * claim's SKIP LOCKED.
 *
 * A step call's settled outcome can come straight from this process's
 * attempts (settle()): the next batch writes it before its claim, so the
 * instance it made ready advances in the same transaction. And the step
 * calls a batch starts can go straight to this process's attempts once it
 * commits (../dispatcher/eagerCalls.ts), without a claim.
 *
 * Wake-ups: a NOTIFY on WORKFLOWS_CHANNEL (an event started or signalled an
 * instance, a retry), every (re)LISTEN (notifications sent while disconnected
 * are lost), a timer at the earliest wake_at it knows (read after each run of
 * batches), and a poll backstop every pollMs. Wake-ups during a batch fold
 * into one more batch after it; a full batch is followed by another at once.
 *
 * stop(deadline): no more claims; the batch in hand finishes, but its
 * statements carry a statement_timeout ending at the deadline, so no
 * transaction is held past it (a batch cut short rolls back, whole).
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/client.js';
import type { Queryable } from '../events/sql/queryable.js';
import { MAX_STATEMENT_ROWS, sortFlushed, type CompletedAttempt, type FlushResult } from '../dispatcher/completer.js';
import type { EagerCalls, Reservation } from '../dispatcher/eagerCalls.js';
import { WORKFLOWS_CHANNEL } from '../events/channels.js';
import { completeDeliveries } from '../events/sql/completeDeliveries.js';
import { errorMessage, msUntil, sleep } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import { advance, type Advance, type StepState } from './advance.js';
import type { WorkflowDefinition } from './definition.js';
import { appendTransitionEvents } from './sql/appendTransitionEvents.js';
import { claimInstances } from './sql/claimInstances.js';
import { deleteSignals } from './sql/deleteSignals.js';
import { deleteWaits } from './sql/deleteWaits.js';
import { finishSteps } from './sql/finishSteps.js';
import { insertStepRows } from './sql/insertStepRows.js';
import { loadDefinitions } from './sql/loadDefinitions.js';
import { nextWake } from './sql/nextWake.js';
import { readSignals } from './sql/readSignals.js';
import { readStepStates } from './sql/readStepStates.js';
import { readWaits } from './sql/readWaits.js';
import { startCalls, type CallStart } from './sql/startCalls.js';
import { updateInstances } from './sql/updateInstances.js';
import { upsertWaits } from './sql/upsertWaits.js';

export const WORKFLOW_RUNNER_DEFAULTS = { batchSize: 50, pollMs: 1_000 };

/** A batch's statements may run this long at most (a stuck statement must not hold the instances' locks forever). */
const BATCH_STATEMENT_TIMEOUT_MS = 10_000;
const BACKOFF_MS = [100, 200, 400, 800, 1_600, 3_200];
/** UNLISTEN waits for the listen connection: during an outage, stop without it after this long. */
const UNLISTEN_GIVE_UP_MS = 1_000;

export interface WorkflowRunnerOptions {
  /** The pool the batches run on. */
  sql: Sql;
  /** Where LISTEN goes (the claim loop's `direct`: postgres.js keeps one listen connection per pool). */
  listenSql: Sql;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
  /** Called after each committed batch with what it did (tests, metrics). */
  onBatch?(summary: BatchSummary): void;
  /** Set to take step calls' settled outcomes into the batches (settle()); the dispatcher whose leases they hold. */
  completions?: RunnerCompletions;
}

export interface RunnerCompletions {
  dispatcherId: string;
  /** After the batch that wrote them commits, as for the completer's writes. */
  onFlushed(batch: CompletedAttempt[], result: FlushResult): void;
  /** Outcomes taken but never written (the runner stopped first): the completer writes them. */
  handBack(outcomes: CompletedAttempt[]): void;
  /** Step calls this process can run at once are written leased to it and run after the commit (eager dispatch). */
  eager?: EagerCalls;
}

export interface BatchSummary {
  claimed: number;
  started: number;
  finished: number;
  ended: string[];
}

type Listening = Awaited<ReturnType<Sql['listen']>>;

export class WorkflowRunner implements Service {
  readonly name = 'workflow runner';
  private readonly log: Logger;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly definitions = new Map<string, WorkflowDefinition>();
  private listener: Listening | null = null;
  private backstop: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private pending = false;
  private running: Promise<void> | null = null;
  private stopping = false;
  private deadline = Infinity;
  private stopped: Promise<void> | null = null;
  /** Ends a backoff sleep at stop. */
  private readonly halt = new AbortController();
  /** Settled step calls taken for the next batch (settle()), and those of the batch in flight. */
  private outcomes: CompletedAttempt[] = [];
  private writing: CompletedAttempt[] = [];
  /** A batch has taken its outcomes and not yet sent its COMMIT: an outcome now would wait for it (settle() refuses). */
  private inFlight = false;
  /** Outcomes of a batch that failed: that batch may have committed all the same (its reply lost). */
  private readonly sentBefore = new WeakSet<CompletedAttempt>();
  /** The slots the batch in flight reserved for its eager step calls: used after its commit, given back if it fails. */
  private reserved: Reservation | null = null;

  constructor(private readonly o: WorkflowRunnerOptions) {
    this.log = o.log.child({ component: 'workflows' });
    this.pollMs = o.pollMs ?? WORKFLOW_RUNNER_DEFAULTS.pollMs;
    this.batchSize = o.batchSize ?? WORKFLOW_RUNNER_DEFAULTS.batchSize;
  }

  /** Something may be ready: run batches now (or right after the one in flight). */
  readonly wake = (): void => {
    if (this.stopping) return;
    this.pending = true;
    this.running ??= this.runBatches().finally(() => {
      this.running = null;
      // A wake-up during the last batch's commit, after the loop looked.
      if (this.pending && !this.stopping) this.wake();
    });
  };

  /**
   * Takes a step call's settled outcome into the next batch, which writes it (completeDeliveries, as the completer
   * would) and advances its instance in the same transaction: one commit and one wake-up fewer between two steps.
   * Refused (false: the completer writes it, on its own connection, at once) while a batch is under way, since
   * the outcome would wait for that batch to end, and once stopping.
   */
  settle(outcome: CompletedAttempt): boolean {
    if (!this.o.completions || this.stopping || this.inFlight) return false;
    this.outcomes.push(outcome);
    this.wake();
    return true;
  }

  /** Deliveries whose outcome this runner holds unwritten: their leases must be kept alive. */
  pendingIds(): string[] {
    return [...this.writing, ...this.outcomes].map((c) => c.outcome.id);
  }

  async start(): Promise<void> {
    this.listener = await this.o.listenSql.listen(WORKFLOWS_CHANNEL, this.wake, this.wake);
    this.backstop = setInterval(this.wake, this.pollMs);
    this.wake();
  }

  stop(deadline: number): Promise<void> {
    return (this.stopped ??= this.stopRunning(deadline));
  }

  private async stopRunning(deadline: number): Promise<void> {
    this.stopping = true;
    this.deadline = deadline;
    this.halt.abort();
    clearInterval(this.backstop);
    clearTimeout(this.timer);
    const giveUp = new AbortController();
    const listener = this.listener;
    this.listener = null;
    await Promise.race([listener?.unlisten().catch(() => {}), sleep(Math.min(msUntil(deadline), UNLISTEN_GIVE_UP_MS), { signal: giveUp.signal })]);
    giveUp.abort();
    // The batch in hand: its statements time out at the deadline, so this settles by then.
    await this.running?.catch(() => {});
    const unwritten = this.outcomes.splice(0);
    if (unwritten.length) this.o.completions?.handBack(unwritten);
  }

  private async runBatches(): Promise<void> {
    let failures = 0;
    while (this.pending && !this.stopping) {
      this.pending = false;
      try {
        const summary = await this.batch();
        failures = 0;
        if (summary.claimed === this.batchSize) this.pending = true;
        if (summary.claimed > 0) this.o.onBatch?.(summary);
      } catch (err) {
        if (this.stopping) return;
        const delay = BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]!;
        this.log.warn({ err: errorMessage(err), retryInMs: delay }, 'workflow batch failed; it rolled back whole');
        await sleep(delay, { signal: this.halt.signal });
        this.pending = true;
      }
    }
    if (!this.stopping) await this.armTimer().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not read the next workflow timer'));
  }

  /** The earliest timer, so a sleep or timeout runs on time rather than at the next poll. */
  private async armTimer(): Promise<void> {
    const at = await nextWake(this.o.sql);
    if (at === null || this.stopping) return;
    const when = at.getTime();
    if (when >= this.timerAt && this.timer) return;
    clearTimeout(this.timer);
    this.timerAt = when;
    // The database's clock set it; a few ms late rather than early (an early claim finds it not yet due).
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.wake();
      },
      Math.max(0, when - Date.now()) + 5,
    );
  }

  /**
   * One transaction in few round trips: statements that do not need each other's replies are sent together
   * (postgres.js pipelines queries issued at once on a transaction's connection, and PostgreSQL runs them in the
   * order sent; one that fails aborts the rest and the batch rolls back whole). The step-to-step latency of a
   * workflow is mostly this transaction's, and on a loopback socket a round trip costs about 0.25 ms.
   *
   * The writes are not awaited inside the transaction: its callback returns once they are sent, so postgres.js
   * sends COMMIT right behind them, in the same round trip. If one of them fails, PostgreSQL has aborted the
   * transaction and answers that COMMIT with a rollback (not an error); the failure then surfaces from `writes`,
   * awaited after the commit, and the batch counts as failed, rolled back whole, as before.
   */
  private async batch(): Promise<BatchSummary> {
    try {
      const summary = await this.advanceBatch();
      if (this.writing.length) this.o.completions!.onFlushed(this.writing, summary.completions);
      return summary;
    } catch (err) {
      // The outcomes it took (sendBatch) are written by a later batch.
      for (const c of this.writing) this.sentBefore.add(c);
      this.outcomes.unshift(...this.writing);
      throw err;
    } finally {
      this.writing = [];
      if (this.reserved) this.o.completions?.eager?.cancel(this.reserved);
      this.reserved = null;
    }
  }

  private async advanceBatch(): Promise<BatchSummary & { completions: FlushResult }> {
    const sent = await this.o.sql.begin(async (tx) => {
      try {
        return await this.sendBatch(tx);
      } finally {
        // Its COMMIT goes next: an outcome from now on goes into the batch after this one, which follows at once.
        // (A call this batch starts can settle before its commit's reply is read: the claim loop hears of the call
        // by NOTIFY, which may come first.)
        this.inFlight = false;
      }
    });
    const { completions } = sent;
    if (sent.advances === null) return { completions, claimed: 0, started: 0, finished: 0, ended: [] };
    const [, { undelivered, eager }] = await sent.writes;
    if (this.reserved) this.o.completions!.eager!.run(eager, this.reserved);
    this.reserved = null;
    for (const id of undelivered) this.log.error({ stepId: id }, 'workflow step call has no trigger (its handler is not synced): no delivery made');
    const ended = sent.advances.filter(({ a }) => a.instance.finished).map(({ id }) => id);
    for (const { id, a } of sent.advances) {
      for (const e of a.events) this.log.info({ instanceId: id, workflow: a.instance.workflow, version: a.instance.version, event: e.type, failure: a.instance.failure ?? undefined }, 'workflow transition');
    }
    return { completions, claimed: sent.claimed, started: sent.started, finished: sent.advances.reduce((n, { a }) => n + a.finishes.length, 0), ended };
  }

  /** The batch's statements, all but its COMMIT; the writes are sent, not awaited (see batch()). */
  private async sendBatch(tx: Queryable) {
    const timeout = Math.max(1, Math.min(BATCH_STATEMENT_TIMEOUT_MS, this.stopping ? msUntil(this.deadline) : BATCH_STATEMENT_TIMEOUT_MS));
    // Taken now, after BEGIN's round trip, so that outcomes that came meanwhile go in too.
    const outcomes = this.outcomes.splice(0, MAX_STATEMENT_ROWS);
    this.writing = outcomes;
    this.inFlight = true;
    // Sent together, run in the order sent: execute() sends the settings now (a postgres.js query is otherwise sent
    // when first awaited, which Promise.all does only after the calls below have sent theirs, in call order). The
    // reads name the instances the claim noted (sql/claimed.ts), so they need not wait for its reply.
    // threefactor.runner_batch: the outcomes' signals wake no runner (workflow_events), since this batch's claim,
    // after them in this transaction, takes their instances (set ready by them, and held by this transaction).
    const [, results, { instances, now }, signals, steps, waits] = await Promise.all([
      tx`select set_config('statement_timeout', ${String(timeout)}, true), set_config('plan_cache_mode', 'force_generic_plan', true), set_config('threefactor.runner_batch', 'on', true)`.execute(),
      outcomes.length ? completeDeliveries(tx, this.o.completions!.dispatcherId, outcomes) : [],
      claimInstances(tx, this.batchSize),
      readSignals(tx),
      readStepStates(tx),
      readWaits(tx),
    ]);
    const completions = sortFlushed(outcomes, results, this.sentBefore);
    if (instances.length === 0) return { completions, advances: null };
    await this.loadMissing(tx, instances);

    const advances: Array<{ id: string; a: Advance }> = [];
    const unchanged: string[] = [];
    for (const instance of instances) {
      const definition = this.definitions.get(`${instance.workflow}@${instance.version}`);
      if (!definition) {
        this.log.error({ instanceId: instance.id, workflow: instance.workflow, version: instance.version }, 'workflow version not stored; instance left as it is');
        unchanged.push(instance.id);
        continue;
      }
      const mine = (r: { instanceId: string }) => r.instanceId === instance.id;
      const a = advance(definition, instance, steps.filter(mine) as StepState[], signals.filter(mine), now, randomUUID, waits.get(instance.id));
      if (a.problem) this.log.error({ instanceId: instance.id, workflow: instance.workflow, problem: a.problem }, 'workflow instance cannot advance');
      advances.push({ id: instance.id, a });
    }

    const calls: CallStart[] = [];
    const rows: Parameters<typeof insertStepRows>[1] = [];
    for (const { id, a } of advances) {
      for (const s of a.starts) {
        if (s.call) calls.push({ ...s, instanceId: id, handler: s.handler!, trigger: s.call.trigger, payload: s.call.payload, causeEvent: s.call.causeEvent, causeDelivery: s.call.causeDelivery });
        else rows.push({ id: s.id, instanceId: id, stepIndex: s.stepIndex, name: s.name, kind: s.kind, phase: s.phase, attempt: s.attempt });
      }
    }
    const eager = this.o.completions?.eager;
    if (eager && calls.length) {
      const wanted = new Map<string, number>();
      for (const c of calls) wanted.set(c.trigger, (wanted.get(c.trigger) ?? 0) + 1);
      this.reserved = eager.reserve(wanted);
    }
    // All sent at once, run in this order (a step row a finish names is inserted before it).
    const writes = Promise.all([
      insertStepRows(tx, rows),
      startCalls(tx, calls, eager && this.reserved ? { dispatcherId: eager.dispatcherId, leaseMs: eager.leaseMs, reserved: this.reserved } : undefined),
      finishSteps(tx, advances.flatMap(({ a }) => a.finishes)),
      deleteWaits(tx, 'workflow_waits', advances.filter(({ a }) => a.wait === null).map(({ id }) => id)),
      upsertWaits(tx, 'workflow_waits', advances.flatMap(({ a }) => (a.wait ? [a.wait] : []))),
      deleteWaits(tx, 'workflow_waits_ahead', advances.filter(({ a }) => a.ahead === null).map(({ id }) => id)),
      upsertWaits(tx, 'workflow_waits_ahead', advances.flatMap(({ a }) => (a.ahead ? [a.ahead] : []))),
      updateInstances(tx, advances.map(({ a }) => a.instance)),
      unchanged.length ? tx`update threefactor.workflow_instances set ready = false where id = any(${unchanged}::uuid[])`.execute() : null,
      // A signal for a wait registered ahead stays until that wait begins; those of unchanged instances stay too.
      deleteSignals(tx, advances.flatMap(({ a }) => a.consumed)),
      appendTransitionEvents(tx, advances.flatMap(({ a }) => a.events)),
    ]);
    // Awaited after the commit (below); until then a failure must not count as unhandled.
    writes.catch(() => {});
    return { completions, advances, writes, claimed: instances.length, started: calls.length + rows.length };
  }

  /** Definitions are immutable per (name, version): read each once per process. */
  private async loadMissing(tx: Parameters<typeof loadDefinitions>[0], instances: ReadonlyArray<{ workflow: string; version: number }>): Promise<void> {
    const missing = new Map<string, { name: string; version: number }>();
    for (const i of instances) {
      const key = `${i.workflow}@${i.version}`;
      if (!this.definitions.has(key)) missing.set(key, { name: i.workflow, version: i.version });
    }
    if (missing.size === 0) return;
    for (const d of await loadDefinitions(tx, [...missing.values()])) this.definitions.set(`${d.name}@${d.version}`, d.definition);
  }
}
