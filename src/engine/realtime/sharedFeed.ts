/**
 * Live-state feeds shared by every subscriber of a topic in this process.
 *
 * A feed joins one hub topic (e.g. `order:<id>` or `restaurant:<id>`), and
 * for each event re-reads the state it points at ONCE, however many
 * subscribers watch it, then hands the fresh state to each of them. The
 * subscribers apply their own authorization to it (no I/O).
 * - Per key (e.g. per order), one read in flight at a time; events arriving
 *   meanwhile schedule exactly one more read.
 * - Values go out in increasing version per key, so a slow read never
 *   overwrites a newer state.
 * - A failed read (database down) is retried with backoff; subscribers see
 *   only a delay, then the latest state.
 * Feeds are reference counted: the last subscriber to leave takes the feed
 * off the hub.
 */
import type { Logger } from '../log.js';
import type { Hub } from './hub.js';
import type { LogEvent } from './sql/eventRow.js';

export interface FeedSpec<T> {
  /** Which state an event changed (e.g. the order id). */
  keyOf(event: LogEvent): string;
  /** Read that state fresh; undefined when it does not exist. */
  load(key: string, event: LogEvent): Promise<T | undefined>;
  versionOf(value: T): number;
  /** A final state changes no more: its key need not be remembered. */
  isFinal?(value: T): boolean;
}

/** Gets the fresh state and the (latest) event that caused the read. */
export type FeedSubscriber<T> = (value: T, cause: LogEvent) => void;

export interface FeedRegistry {
  /** Subscribe to the shared feed of `topic`; returns the function that leaves it. */
  join<T>(topic: string, spec: FeedSpec<T>, subscriber: FeedSubscriber<T>): () => void;
  stats(): { feeds: number; subscribers: number };
}

/** Versions remembered per feed; beyond this the oldest keys are forgotten (their next value is simply sent). */
const MAX_TRACKED_KEYS = 10_000;

/**
 * One topic's feed. A class with its bookkeeping allocated on first use: a
 * process holds one feed per watched order, so an idle feed must cost little
 * (a few hundred bytes, not a closure scope and four collections).
 */
class Feed<T> {
  readonly subscribers = new Set<FeedSubscriber<unknown>>();
  /** Last version sent per key (absent: nothing sent yet, or a final state). */
  private versions?: Map<string, number>;
  /** Keys with a read in flight. */
  private reading?: Set<string>;
  /** Keys changed again while being read (or whose read failed): the newest event that did it. */
  private dirty?: Map<string, LogEvent>;
  private retryMs = 50;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly leaveHub: () => void;

  constructor(
    hub: Hub,
    private readonly topic: string,
    private readonly spec: FeedSpec<T>,
    private readonly log: Logger,
  ) {
    this.leaveHub = hub.subscribe(topic, (event) => this.read(spec.keyOf(event), event));
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.leaveHub();
  }

  private publish(key: string, value: T, cause: LogEvent): void {
    const version = this.spec.versionOf(value);
    const last = this.versions?.get(key);
    if (last !== undefined && version <= last) return;
    this.versions?.delete(key);
    // A final state is still sent; its key just need not be remembered.
    if (!this.spec.isFinal?.(value)) {
      const versions = (this.versions ??= new Map());
      versions.set(key, version);
      if (versions.size > MAX_TRACKED_KEYS) versions.delete(versions.keys().next().value!);
    }
    for (const subscriber of this.subscribers) {
      try {
        subscriber(value, cause);
      } catch (err) {
        this.log.error({ err, topic: this.topic }, 'realtime feed: subscriber failed');
      }
    }
  }

  private read(key: string, event: LogEvent): void {
    if (this.stopped) return;
    const reading = (this.reading ??= new Set());
    if (reading.has(key)) {
      (this.dirty ??= new Map()).set(key, event);
      return;
    }
    reading.add(key);
    this.spec.load(key, event).then(
      (value) => {
        reading.delete(key);
        this.retryMs = 50;
        if (value !== undefined) this.publish(key, value, event);
        const next = this.dirty?.get(key);
        if (next) {
          this.dirty!.delete(key);
          this.read(key, next);
        }
      },
      (err: unknown) => {
        reading.delete(key);
        // Keep the newest event for this key and try again later.
        const dirty = (this.dirty ??= new Map());
        if (!dirty.has(key)) dirty.set(key, event);
        this.log.warn({ err, topic: this.topic }, 'realtime feed: reading state failed; retrying');
        this.retryLater();
      },
    );
  }

  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const pending = [...(this.dirty ?? [])];
      this.dirty?.clear();
      for (const [key, event] of pending) this.read(key, event);
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 5_000);
  }
}

export function createFeedRegistry(hub: Hub, log: Logger): FeedRegistry {
  const feeds = new Map<string, Feed<unknown>>();
  let subscriberCount = 0;

  return {
    join<T>(topic: string, spec: FeedSpec<T>, subscriber: FeedSubscriber<T>) {
      let feed = feeds.get(topic);
      if (!feed) {
        // The feed of a topic is always opened with that topic's spec, so its values are T.
        feed = new Feed(hub, topic, spec as FeedSpec<unknown>, log);
        feeds.set(topic, feed);
      }
      const subs = feed.subscribers;
      const entry = subscriber as FeedSubscriber<unknown>;
      subs.add(entry);
      subscriberCount++;
      let left = false;
      const joined = feed;
      return () => {
        if (left) return;
        left = true;
        subscriberCount--;
        subs.delete(entry);
        if (subs.size === 0 && feeds.get(topic) === joined) {
          feeds.delete(topic);
          joined.stop();
        }
      };
    },
    stats: () => ({ feeds: feeds.size, subscribers: subscriberCount }),
  };
}
