/**
 * Retention: keeps the delivery tables (and, if asked, the event log) from
 * growing without bound, without the long locks and vacuum storms of one big
 * DELETE. Every statement deletes at most RETENTION_BATCH_SIZE rows and
 * commits on its own, with a short pause between two.
 *
 * - delivered deliveries (and their attempt logs) older than
 *   RETENTION_DELIVERED_DAYS (default 7; 0 keeps them);
 * - dead deliveries are the dead-letter queue: kept unless RETENTION_DEAD_DAYS is set;
 * - events are history: kept unless RETENTION_EVENTS_DAYS is set, and then
 *   never one with a pending, running or dead delivery.
 *
 * The dispatcher process runs it as a service (Retention, on the process's
 * Runtime); with N dispatchers only the one holding a session advisory lock
 * does the work (the lock goes with its connection if the process dies). The
 * lock and the batches share one reserved connection on `direct`: past a
 * transaction pooler, each statement could land on another session.
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { errorMessage, sleep } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';
import { deleteDeadDeliveries } from '../events/sql/deleteDeadDeliveries.js';
import { deleteDeliveredDeliveries, RETENTION_START } from '../events/sql/deleteDeliveredDeliveries.js';
import { deleteOldEvents, LOG_START } from '../events/sql/deleteOldEvents.js';
import { loadTriggers } from '../events/sql/loadTriggers.js';
import type { Queryable } from '../events/sql/queryable.js';

export type RetentionConfig = Pick<
  Config,
  | 'RETENTION_DELIVERED_DAYS'
  | 'RETENTION_DEAD_DAYS'
  | 'RETENTION_EVENTS_DAYS'
  | 'RETENTION_INTERVAL_MS'
  | 'RETENTION_BATCH_SIZE'
  | 'RETENTION_BATCH_PAUSE_MS'
>;

export interface RetentionCounts {
  /** Delivered deliveries deleted. */
  delivered: number;
  /** Dead deliveries deleted (RETENTION_DEAD_DAYS). */
  dead: number;
  /** Attempt log rows deleted with any of the deliveries. */
  attempts: number;
  /** Events deleted (RETENTION_EVENTS_DAYS), with their delivered deliveries (counted in `delivered`). */
  events: number;
  /** DELETE statements that removed at least one row. */
  batches: number;
}

export interface RetentionResult extends RetentionCounts {
  /** false when another process held the retention lock (or nothing is configured): nothing was done. */
  ran: boolean;
}

export interface RetentionOptions {
  database: Pick<Database, 'direct'>;
  log: Logger;
  config: RetentionConfig;
  /** Stops the run between two batches. */
  signal?: AbortSignal;
}

/** Arbitrary but fixed: "3fRT" in ASCII. */
const RETENTION_LOCK_KEY = 0x33665254;

export function retentionEnabled(config: RetentionConfig): boolean {
  return config.RETENTION_DELIVERED_DAYS > 0 || config.RETENTION_DEAD_DAYS !== undefined || config.RETENTION_EVENTS_DAYS !== undefined;
}

/** One pass over everything due, unless another process is doing it. */
export async function runRetentionOnce(opts: RetentionOptions): Promise<RetentionResult> {
  const counts: RetentionCounts = { delivered: 0, dead: 0, attempts: 0, events: 0, batches: 0 };
  if (!retentionEnabled(opts.config)) return { ran: false, ...counts };
  // A session lock needs one connection for the whole pass; the batches run on it too.
  const conn = await opts.database.direct.reserve();
  try {
    const [lock] = await conn<{ locked: boolean }[]>`select pg_try_advisory_lock(${RETENTION_LOCK_KEY}) as locked`;
    if (!lock!.locked) return { ran: false, ...counts };
    try {
      const started = performance.now();
      await purge(conn, opts, counts);
      const total = counts.delivered + counts.dead + counts.events;
      opts.log[total > 0 ? 'info' : 'debug']({ ...counts, ms: Math.round(performance.now() - started) }, 'retention pass done');
      return { ran: true, ...counts };
    } finally {
      await conn`select pg_advisory_unlock(${RETENTION_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

async function purge(sql: Queryable, opts: RetentionOptions, counts: RetentionCounts): Promise<void> {
  const { config, signal } = opts;
  const limit = config.RETENTION_BATCH_SIZE;
  const pause = () => sleep(config.RETENTION_BATCH_PAUSE_MS, { signal });
  const triggers = (await loadTriggers(sql)).map((t) => t.name);

  if (config.RETENTION_DELIVERED_DAYS > 0) {
    for (const trigger of triggers) {
      let from = RETENTION_START;
      for (;;) {
        if (signal?.aborted) return;
        const batch = await deleteDeliveredDeliveries(sql, { trigger, days: config.RETENTION_DELIVERED_DAYS, from, limit });
        if (batch.deliveries === 0) break;
        counts.delivered += batch.deliveries;
        counts.attempts += batch.attempts;
        counts.batches += 1;
        from = batch.last!;
        if (batch.deliveries < limit) break;
        await pause();
      }
    }
  }

  if (config.RETENTION_DEAD_DAYS !== undefined) {
    for (const trigger of triggers) {
      for (;;) {
        if (signal?.aborted) return;
        const batch = await deleteDeadDeliveries(sql, { trigger, days: config.RETENTION_DEAD_DAYS, limit });
        if (batch.deliveries === 0) break;
        counts.dead += batch.deliveries;
        counts.attempts += batch.attempts;
        counts.batches += 1;
        if (batch.deliveries < limit) break;
        await pause();
      }
    }
  }

  if (config.RETENTION_EVENTS_DAYS !== undefined) {
    let after = LOG_START;
    for (;;) {
      if (signal?.aborted) return;
      const batch = await deleteOldEvents(sql, { days: config.RETENTION_EVENTS_DAYS, afterXid: after.xid, afterSeq: after.seq, limit });
      counts.events += batch.events;
      counts.delivered += batch.deliveries;
      counts.attempts += batch.attempts;
      if (batch.events > 0) counts.batches += 1;
      // The log is in commit order, so a window without any old event means the rest is newer.
      if (batch.old === 0 || batch.lastXid === null || batch.lastSeq === null) break;
      after = { xid: batch.lastXid, seq: batch.lastSeq };
      if (batch.events > 0) await pause();
    }
  }
}

export type RetentionServiceOptions = Omit<RetentionOptions, 'signal'> & { intervalMs?: number; firstRunMs?: number };

/**
 * Runs retention every `intervalMs` (default RETENTION_INTERVAL_MS), the
 * first pass shortly after start. Passes never overlap; a failed pass is
 * logged and retried at the next interval. stop() interrupts a pass between
 * two batches and waits for it.
 */
export class Retention implements Service {
  readonly name = 'retention';
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: RetentionServiceOptions) {
    this.log = o.log.child({ component: 'retention' });
    this.intervalMs = o.intervalMs ?? o.config.RETENTION_INTERVAL_MS;
  }

  async start(): Promise<void> {
    const { config } = this.o;
    if (!retentionEnabled(config)) {
      this.log.info('retention disabled: every delivery and event is kept');
      return;
    }
    this.log.info(
      {
        deliveredDays: config.RETENTION_DELIVERED_DAYS || null,
        deadDays: config.RETENTION_DEAD_DAYS ?? null,
        eventsDays: config.RETENTION_EVENTS_DAYS ?? null,
        intervalMs: this.intervalMs,
      },
      'retention scheduled',
    );
    this.schedule(this.o.firstRunMs ?? Math.min(this.intervalMs, 5_000));
  }

  /** The deadline is the Runtime's to enforce: a pass stops between two batches, each one statement. */
  async stop(_deadline?: number): Promise<void> {
    this.controller.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = runRetentionOnce({ ...this.o, log: this.log, signal: this.controller.signal })
        .then(
          (r) => {
            if (!r.ran) this.log.debug('retention skipped: another process holds the lock');
          },
          (err: unknown) => this.log.warn({ err: errorMessage(err) }, 'retention pass failed; will retry'),
        )
        .finally(() => {
          this.running = null;
          this.schedule(this.intervalMs);
        });
    }, ms);
  }
}

/** Creates and starts a Retention service (for a caller without a Runtime). */
export function startRetention(opts: RetentionServiceOptions): Retention {
  const retention = new Retention(opts);
  void retention.start();
  return retention;
}
