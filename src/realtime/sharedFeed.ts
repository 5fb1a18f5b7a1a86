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

interface Feed {
  subscribers: Set<FeedSubscriber<unknown>>;
  stop(): void;
}

export function createFeedRegistry(hub: Hub, log: Logger): FeedRegistry {
  const feeds = new Map<string, Feed>();
  let subscriberCount = 0;

  function openFeed<T>(topic: string, spec: FeedSpec<T>): Feed {
    const subscribers = new Set<FeedSubscriber<unknown>>();
    const versions = new Map<string, number>();
    const reading = new Set<string>();
    const dirty = new Map<string, LogEvent>();
    let retryMs = 50;
    let retryTimer: NodeJS.Timeout | undefined;
    let stopped = false;

    function publish(key: string, value: T, cause: LogEvent): void {
      const version = spec.versionOf(value);
      const last = versions.get(key);
      if (last !== undefined && version <= last) return;
      versions.delete(key);
      if (spec.isFinal?.(value)) {
        // Still send it; just stop remembering the key.
      } else {
        versions.set(key, version);
        if (versions.size > MAX_TRACKED_KEYS) versions.delete(versions.keys().next().value!);
      }
      for (const subscriber of subscribers) {
        try {
          subscriber(value, cause);
        } catch (err) {
          log.error({ err, topic }, 'realtime feed: subscriber failed');
        }
      }
    }

    function read(key: string, event: LogEvent): void {
      if (stopped) return;
      if (reading.has(key)) {
        dirty.set(key, event);
        return;
      }
      reading.add(key);
      spec.load(key, event).then(
        (value) => {
          reading.delete(key);
          retryMs = 50;
          if (value !== undefined) publish(key, value, event);
          const next = dirty.get(key);
          if (next) {
            dirty.delete(key);
            read(key, next);
          }
        },
        (err: unknown) => {
          reading.delete(key);
          // Keep the newest event for this key and try again later.
          if (!dirty.has(key)) dirty.set(key, event);
          log.warn({ err, topic }, 'realtime feed: reading state failed; retrying');
          retryLater();
        },
      );
    }

    function retryLater(): void {
      if (retryTimer || stopped) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        const pending = [...dirty];
        dirty.clear();
        for (const [key, event] of pending) read(key, event);
      }, retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMs * 2, 5_000);
    }

    const leaveHub = hub.subscribe(topic, (event) => read(spec.keyOf(event), event));
    return {
      subscribers,
      stop() {
        stopped = true;
        if (retryTimer) clearTimeout(retryTimer);
        leaveHub();
      },
    };
  }

  return {
    join<T>(topic: string, spec: FeedSpec<T>, subscriber: FeedSubscriber<T>) {
      let feed = feeds.get(topic);
      if (!feed) {
        feed = openFeed(topic, spec);
        feeds.set(topic, feed);
      }
      const subs = feed.subscribers;
      // The feed of a topic is always opened with that topic's spec, so its values are T.
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
