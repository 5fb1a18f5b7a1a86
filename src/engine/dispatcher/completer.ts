/**
 * The completer (a dispatcher service): outcomes are buffered and written
 * together, deliveries and attempts in one statement
 * (sql/completeDeliveries.ts), which also appends the batch's one engine
 * event (`threefactor.deliveries.progressed`, events/engineEvents.ts): how
 * the realtime hub, and the causal trees it feeds, learn of attempts. If
 * the database is unreachable the batch stays buffered and is retried with
 * backoff; the lease keeper keeps the
 * leases alive meanwhile (pendingIds), and if they expire anyway the
 * delivery is simply sent again (at least once). stop(deadline) writes what
 * is buffered until the deadline and reports what it could not.
 *
 * A failed write may still have committed (the connection lost after the
 * statement ran: the reply never came), so a retried batch can be one the
 * database already holds. The statement is idempotent for that
 * (sql/completeDeliveries.ts) and says which outcomes an earlier send had
 * written; the completer remembers which outcomes it sent before, because
 * for a release only that tells "our earlier send wrote it" from "the lease
 * expired and the rescuer handed it back".
 */
import type { Sql } from '../db/client.js';
import { errorMessage, msUntil, sleep } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import { completeDeliveries, type Completion, type CompletionResult } from '../events/sql/completeDeliveries.js';

/** An outcome and, unless it is a release, the attempt that produced it. */
export type CompletedAttempt = Completion;

/** A written batch, split by what became of each outcome. */
export interface FlushResult {
  /** Written by this send. */
  applied: CompletedAttempt[];
  /** Written by an earlier send of the same batch whose reply was lost; nothing was written twice. */
  already: CompletedAttempt[];
  /** Dropped: the lease was lost first (re-claimed after it expired, or the delivery deleted). */
  lost: CompletedAttempt[];
}

export interface CompleterOptions {
  sql: Sql;
  dispatcherId: string;
  log: Logger;
  /** Flush at once when this many are buffered. */
  maxBatch: number;
  /** Otherwise, this long after the first one arrives. */
  delayMs: number;
  /**
   * An outcome something waits on (a workflow step's: the runner moves on only once it is written) is written at
   * once rather than after delayMs. Outcomes that arrive while that write runs still go in the next batch together.
   */
  urgent?(item: CompletedAttempt): boolean;
  onFlushed(batch: CompletedAttempt[], result: FlushResult): void;
}

/** At most this many outcomes in one completion statement. */
export const MAX_STATEMENT_ROWS = 1000;

/**
 * The claim loop claims nothing more while this many outcomes wait to be written (./claimLoop.ts,
 * `waitingForCompleter`): one statement's worth being written and one buffered, so a completer that keeps
 * up is never waited for, and one that cannot write bounds the buffer, the running set and the leases kept.
 */
export const MAX_UNWRITTEN_OUTCOMES = 2 * MAX_STATEMENT_ROWS;

/**
 * What became of each outcome of a written batch (completeDeliveries' results, in batch order). `sentBefore`: the
 * outcomes of an earlier send that failed; a release written "already" but not sent before was handed back by the
 * rescuer (its lease had expired), so it counts as lost.
 */
export function sortFlushed(batch: readonly CompletedAttempt[], results: readonly CompletionResult[], sentBefore: WeakSet<CompletedAttempt>): FlushResult {
  const flushed: FlushResult = { applied: [], already: [], lost: [] };
  batch.forEach((c, i) => {
    const result = results[i];
    flushed[result === 'applied' || (result === 'already' && sentBefore.has(c)) ? result : 'lost'].push(c);
  });
  return flushed;
}

export class Completer implements Service {
  readonly name = 'completer';
  private buffer: CompletedAttempt[] = [];
  private writing: CompletedAttempt[] = [];
  private flushing: Promise<boolean> | null = null;
  /** The write scheduled next (a timer, or an immediate: see schedule). */
  private timer: { cancel(): void } | null = null;
  private failures = 0;
  /** Outcomes in a batch whose write failed: that send may have committed all the same. */
  private readonly sentBefore = new WeakSet<CompletedAttempt>();
  private closed = false;

  constructor(private readonly o: CompleterOptions) {}

  async start(): Promise<void> {}

  async stop(deadline: number): Promise<void> {
    const unwritten = await this.drain(deadline);
    if (unwritten) this.o.log.error({ unwritten }, 'stopped with outcomes unwritten; their deliveries will be re-run when their leases expire');
  }

  add(item: CompletedAttempt): void {
    this.buffer.push(item);
    this.schedule(this.buffer.length >= this.o.maxBatch || this.o.urgent?.(item) ? 0 : this.o.delayMs);
  }

  /** Deliveries whose outcome is not yet written: their leases must be kept alive. */
  pendingIds(): string[] {
    return [...this.writing, ...this.buffer].map((c) => c.outcome.id);
  }

  get size(): number {
    return this.buffer.length + this.writing.length;
  }

  /** Writes the buffer; resolves false if the write failed (it will be retried). */
  flush(): Promise<boolean> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return Promise.resolve(true);
    if (this.timer) {
      this.timer.cancel();
      this.timer = null;
    }
    const batch = this.buffer.splice(0, MAX_STATEMENT_ROWS);
    this.writing = batch;
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
      this.writing = [];
      if (this.buffer.length && !this.timer && !this.closed) this.schedule(0);
    });
    return this.flushing;
  }

  /** Flushes until empty or the deadline, then stops; returns how many outcomes could not be written. */
  private async drain(deadline: number): Promise<number> {
    while (this.size > 0 && Date.now() < deadline) {
      // A write that hangs (a lock, a dead link) must not hold the drain past its deadline.
      const giveUp = new AbortController();
      const written = await Promise.race([this.flush(), sleep(msUntil(deadline), { signal: giveUp.signal }).then(() => null)]);
      giveUp.abort();
      if (written === null) break;
      if (!written) await sleep(Math.min(250, msUntil(deadline)));
    }
    this.closed = true;
    this.timer?.cancel();
    return this.size;
  }

  private schedule(ms: number): void {
    if (this.closed || this.flushing) return;
    if (this.timer) {
      if (ms > 0) return;
      this.timer.cancel();
    }
    this.timer = this.after(ms);
  }

  /** A flush in `ms`; at 0 on the next turn of the event loop, since a setTimeout of 0 waits 1 ms or more in Node. */
  private after(ms: number): { cancel(): void } {
    const run = () => {
      this.timer = null;
      void this.flush();
    };
    if (ms === 0) {
      const immediate = setImmediate(run);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timeout = setTimeout(run, ms);
    return { cancel: () => clearTimeout(timeout) };
  }

  private async write(batch: CompletedAttempt[]): Promise<boolean> {
    const { sql, dispatcherId } = this.o;
    try {
      const results = await completeDeliveries(sql, dispatcherId, batch);
      this.failures = 0;
      this.o.onFlushed(batch, sortFlushed(batch, results, this.sentBefore));
      return true;
    } catch (err) {
      for (const c of batch) this.sentBefore.add(c);
      this.buffer.unshift(...batch);
      this.failures += 1;
      const retryMs = Math.min(5_000, 100 * 2 ** this.failures);
      this.o.log.warn({ err: errorMessage(err), buffered: this.buffer.length, retryMs }, 'could not record delivery outcomes; will retry');
      if (!this.closed && !this.timer) this.timer = this.after(retryMs);
      return false;
    }
  }
}
