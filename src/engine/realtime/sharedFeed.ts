/**
 * Live-state feeds shared by every subscriber of a topic in this process.
 *
 * A feed joins one hub topic (e.g. `order:<id>` or `restaurant:<id>`), and
 * for each event re-reads the row it points at ONCE, however many
 * subscribers watch it, then hands the fresh row to each of them. The
 * subscribers apply their own authorization to it (no I/O).
 * - Reads of one `LiveRows` are batched per hub tick across all its feeds
 *   (`tickBatcher.ts`): one query for every row changed in that tick, whoever
 *   watches it (an order's own subscribers, its restaurant's feed, …).
 * - Per key (e.g. per order), one read in flight at a time; events arriving
 *   meanwhile schedule exactly one more read.
 * - Values go out in increasing version per key, so a slow read never
 *   overwrites a newer state.
 * - A failed read (database down) is retried with backoff; subscribers see
 *   only a delay, then the latest state.
 * Feeds are reference counted: the last subscriber to leave takes the feed
 * off the hub. Members are objects, not callbacks, and leave through the feed
 * they joined: a subscriber costs no closure here.
 */
import type { Db } from '../db/client.js';
import type { Logger } from '../log.js';
import type { Hub } from './hub.js';
import { stateReads } from './metrics.js';
import type { LogEvent } from './sql/eventRow.js';
import { createTickBatcher, type TickBatcher } from './tickBatcher.js';

/** The rows live subscriptions watch, and how to re-read them: one definition, shared by every field that watches them. */
export interface LiveRows<Row> {
  /** The `kind` label of the state-reads metric, e.g. `order`. */
  name: string;
  /** Which row an event changed (e.g. its aggregate id). */
  keyOf(event: LogEvent): string;
  /** Read these rows fresh, in one query; a key without a row is left out of the map. */
  loadMany(keys: string[], db: Db): Promise<Map<string, Row>>;
  /** Orders the states of one row: only a higher version is sent. */
  versionOf(row: Row): number;
  /** A final state changes no more: its key need not be remembered. */
  isFinal?(row: Row): boolean;
}

/** A subscriber of a feed: gets the fresh row, its key and the (latest) event that caused the read. */
export interface FeedMember<Row> {
  receive(key: string, row: Row, cause: LogEvent): void;
}

/** A joined feed: what a member leaves. */
export interface JoinedFeed<Row> {
  leave(member: FeedMember<Row>): void;
}

export interface FeedRegistry {
  /** Join the shared feed of `rows` on `topic`. */
  join<Row>(rows: LiveRows<Row>, topic: string, member: FeedMember<Row>): JoinedFeed<Row>;
}

/** Versions remembered per feed; beyond this the oldest keys are forgotten (their next value is simply sent). */
const MAX_TRACKED_KEYS = 10_000;

/** The process's reads of one `LiveRows`: its tick batcher and its feeds by topic. */
interface Reader<Row> {
  rows: LiveRows<Row>;
  batcher: TickBatcher<Row>;
  feeds: Map<string, Feed<Row>>;
  hub: Hub;
  log: Logger;
}

/**
 * One topic's feed. A class with its bookkeeping allocated on first use: a
 * process holds one feed per watched order, so an idle feed must cost little
 * (a few hundred bytes, not a closure scope and four collections).
 */
class Feed<Row> implements JoinedFeed<Row> {
  readonly members = new Set<FeedMember<Row>>();
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
    private readonly reader: Reader<Row>,
    private readonly topic: string,
  ) {
    this.leaveHub = reader.hub.subscribe(topic, (event) => this.read(reader.rows.keyOf(event), event));
  }

  leave(member: FeedMember<Row>): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    if (this.reader.feeds.get(this.topic) === this) this.reader.feeds.delete(this.topic);
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.leaveHub();
  }

  private publish(key: string, row: Row, cause: LogEvent): void {
    const { rows } = this.reader;
    const version = rows.versionOf(row);
    const last = this.versions?.get(key);
    if (last !== undefined && version <= last) return;
    this.versions?.delete(key);
    // A final state is still sent; its key just need not be remembered.
    if (!rows.isFinal?.(row)) {
      const versions = (this.versions ??= new Map());
      versions.set(key, version);
      if (versions.size > MAX_TRACKED_KEYS) versions.delete(versions.keys().next().value!);
    }
    for (const member of this.members) {
      try {
        member.receive(key, row, cause);
      } catch (err) {
        this.reader.log.error({ err, topic: this.topic }, 'realtime feed: subscriber failed');
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
    this.reader.batcher.load(key).then(
      (row) => {
        reading.delete(key);
        this.retryMs = 50;
        if (row !== undefined) this.publish(key, row, event);
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
        this.reader.log.warn({ err, topic: this.topic }, 'realtime feed: reading state failed; retrying');
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

export function createFeedRegistry(hub: Hub, db: Db, log: Logger): FeedRegistry {
  const readers = new Map<LiveRows<unknown>, Reader<unknown>>();

  function readerOf<Row>(rows: LiveRows<Row>): Reader<Row> {
    // A reader is only ever made from its own `rows`, so its values are Row.
    let reader = readers.get(rows as LiveRows<unknown>) as Reader<Row> | undefined;
    if (!reader) {
      const batcher = createTickBatcher<Row>((keys) => {
        stateReads.inc({ kind: rows.name });
        return rows.loadMany(keys, db);
      });
      reader = { rows, batcher, feeds: new Map(), hub, log };
      readers.set(rows as LiveRows<unknown>, reader as Reader<unknown>);
    }
    return reader;
  }

  return {
    join(rows, topic, member) {
      const reader = readerOf(rows);
      let feed = reader.feeds.get(topic);
      if (!feed) {
        feed = new Feed(reader, topic);
        reader.feeds.set(topic, feed);
      }
      feed.members.add(member);
      return feed;
    },
  };
}
