/**
 * The `deliveryStats` subscription's feed: the operations console's numbers,
 * computed by the server on its own timer and pushed, so no client polls.
 *
 * One feed per realtime service (API process), started by its first
 * subscriber and stopped when the last one leaves. Each tick is ONE read
 * (sql/readDeliveryStats.ts), however many subscribers: the per-trigger
 * queue counts and pause state, and the attempts logged since the previous
 * tick. The feed keeps the last WINDOW_TICKS ticks in memory, so every
 * snapshot carries the throughput and latency series its charts draw and the
 * deliveries delivered and failed per trigger over that window (a late joiner
 * gets the whole window at once, from the newest snapshot, with no read of its
 * own). A read that fails is logged and the next tick tries again; the
 * subscribers keep the last snapshot.
 *
 * Each subscriber is a one-key LiveState: a slow client holds one snapshot,
 * the newest. Drain ends them (realtime.track), which stops the timer.
 */
import type { Logger } from '../log.js';
import { LiveState } from './liveState.js';
import type { Delivery } from './delivery.js';
import { stateReads, subscribers } from './metrics.js';
import type { Realtime } from './realtime.js';
import { readDeliveryStats, type TriggerStatsRow } from './sql/readDeliveryStats.js';
import type { Queryable } from '../events/sql/queryable.js';

/** The metric label (`threefactor_realtime_state_reads_total{kind}`, `…_subscribers{kind}`). */
export const DELIVERY_STATS_KIND = 'deliveryStats';
export const DELIVERY_STATS_INTERVAL_MS = 1_000;
/** Ticks kept for the charts and the window counts: a minute at the default interval. */
export const WINDOW_TICKS = 60;

export interface DeliveryStatsSample {
  at: Date;
  /** Attempts logged in this tick, delivered ones, and the others (retry, dead, paused). */
  attempts: number;
  delivered: number;
  failed: number;
  throughputPerSec: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A trigger's row as read (its counts now and the last tick's attempts), with the window's figures. */
export interface TriggerStats extends Omit<TriggerStatsRow, 'delivered'> {
  /** Over the window. */
  delivered: number;
  failed: number;
  throughputPerSec: number;
}

export interface DeliveryStatsSnapshot {
  at: Date;
  intervalMs: number;
  /** What the window covers now: less than WINDOW_TICKS ticks right after the feed started. */
  windowMs: number;
  queueDepth: number;
  running: number;
  dead: number;
  triggers: TriggerStats[];
  /** Oldest first, the last one this tick's. */
  samples: DeliveryStatsSample[];
}

interface Tick {
  sample: DeliveryStatsSample;
  perTrigger: Map<string, { delivered: number; failed: number }>;
}

const ONE = '';

class StatsSubscriber extends LiveState<Delivery<DeliveryStatsSnapshot>> {
  private untrack?: () => void;

  constructor(private readonly feed: DeliveryStatsFeed) {
    super(undefined, 1);
  }

  join(realtime: Realtime): void {
    subscribers.inc({ kind: DELIVERY_STATS_KIND });
    this.untrack = realtime.track(this);
    this.feed.join(this);
  }

  send(snapshot: DeliveryStatsSnapshot): void {
    this.offer(ONE, { value: snapshot });
  }

  protected override overflowed(): void {
    // One key, replaced in place: never more than one snapshot pending.
  }

  protected override closed(): void {
    this.feed.leave(this);
    this.untrack?.();
    subscribers.dec({ kind: DELIVERY_STATS_KIND });
  }
}

export class DeliveryStatsFeed {
  private readonly members = new Set<StatsSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  private ticks: Tick[] = [];
  private lastAttemptId: number | null = null;
  private latest: DeliveryStatsSnapshot | undefined;
  private lastReadAt = 0;
  /** Bumped on stop, so a read still running when the last subscriber left is dropped. */
  private generation = 0;

  constructor(
    private readonly sql: Queryable,
    private readonly log: Logger,
    readonly intervalMs = DELIVERY_STATS_INTERVAL_MS,
  ) {}

  get size(): number {
    return this.members.size;
  }

  join(member: StatsSubscriber): void {
    this.members.add(member);
    if (this.latest) member.send(this.latest);
    if (this.members.size === 1) this.schedule(0);
  }

  leave(member: StatsSubscriber): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.generation++;
    // A later start begins a fresh window: the ticks it would extend are not contiguous.
    this.ticks = [];
    this.lastAttemptId = null;
    this.latest = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const generation = this.generation;
    const started = Date.now();
    try {
      stateReads.inc({ kind: DELIVERY_STATS_KIND });
      const read = await readDeliveryStats(this.sql, this.lastAttemptId);
      if (generation !== this.generation) return;
      const first = this.lastAttemptId === null;
      this.lastAttemptId = read.lastAttemptId;
      const elapsedMs = first ? this.intervalMs : Math.max(1, started - this.lastReadAt);
      this.lastReadAt = started;
      // The first read only finds where the attempt log ends: it is no tick of the charts.
      if (!first) this.record(read.triggers, read.total, new Date(started), elapsedMs);
      this.latest = this.snapshot(read.triggers, new Date(started), elapsedMs);
      for (const member of this.members) member.send(this.latest);
    } catch (err) {
      this.log.warn({ err }, 'deliveryStats: read failed; the next tick tries again');
    } finally {
      if (generation === this.generation && this.members.size > 0) this.schedule(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
  }

  private record(rows: TriggerStatsRow[], total: TriggerStatsRow, at: Date, elapsedMs: number): void {
    const perTrigger = new Map(rows.filter((r) => r.attempts > 0).map((r) => [r.trigger, { delivered: r.delivered, failed: r.attempts - r.delivered }]));
    this.ticks.push({
      sample: {
        at,
        attempts: total.attempts,
        delivered: total.delivered,
        failed: total.attempts - total.delivered,
        throughputPerSec: rate(total.attempts, elapsedMs),
        p50Ms: total.p50Ms,
        p95Ms: total.p95Ms,
      },
      perTrigger,
    });
    if (this.ticks.length > WINDOW_TICKS) this.ticks.shift();
  }

  private snapshot(rows: TriggerStatsRow[], at: Date, elapsedMs: number): DeliveryStatsSnapshot {
    const triggers = rows.map((r): TriggerStats => {
      let delivered = 0;
      let failed = 0;
      for (const tick of this.ticks) {
        const t = tick.perTrigger.get(r.trigger);
        if (t) {
          delivered += t.delivered;
          failed += t.failed;
        }
      }
      return {
        trigger: r.trigger,
        paused: r.paused,
        pausedReason: r.pausedReason,
        pending: r.pending,
        running: r.running,
        dead: r.dead,
        delivered,
        failed,
        attempts: this.ticks.length ? r.attempts : 0,
        throughputPerSec: this.ticks.length ? rate(r.attempts, elapsedMs) : 0,
        p50Ms: r.p50Ms,
        p95Ms: r.p95Ms,
        maxMs: r.maxMs,
      };
    });
    const sum = (f: (t: TriggerStats) => number) => triggers.reduce((n, t) => n + f(t), 0);
    return {
      at,
      intervalMs: this.intervalMs,
      windowMs: this.ticks.length ? at.getTime() - this.ticks[0]!.sample.at.getTime() + elapsedMs : 0,
      queueDepth: sum((t) => t.pending),
      running: sum((t) => t.running),
      dead: sum((t) => t.dead),
      triggers,
      samples: this.ticks.map((t) => t.sample),
    };
  }
}

const rate = (count: number, ms: number): number => Math.round((count * 1000 * 100) / ms) / 100;

const feeds = new WeakMap<Realtime, DeliveryStatsFeed>();

/** The process's feed (one per realtime service), made on first use. */
export function deliveryStatsFeed(realtime: Realtime): DeliveryStatsFeed {
  let feed = feeds.get(realtime);
  if (!feed) feeds.set(realtime, (feed = new DeliveryStatsFeed(realtime.database.sql, realtime.log)));
  return feed;
}

export async function subscribeDeliveryStats(realtime: Realtime): Promise<AsyncIterableIterator<Delivery<DeliveryStatsSnapshot>>> {
  const subscriber = new StatsSubscriber(deliveryStatsFeed(realtime));
  subscriber.join(realtime);
  return subscriber;
}
