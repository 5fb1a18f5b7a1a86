/**
 * The realtime hub: ONE LISTEN connection per process, and an in-memory
 * fan-out of committed events to reference-counted topics.
 *
 * A notification is only a wake-up. The truth is the event log, tailed with
 * the gap-free cursor (see ./cursor.ts): on every wake-up the hub reads the
 * events after its position whose transactions have all finished, dispatches
 * them synchronously to the topics' listeners and advances. So:
 * - a lost notification (listener reconnecting, database restart) costs
 *   latency, never an event: every (re)LISTEN is followed by a catch-up read,
 *   and a slow backstop timer reads anyway;
 * - wake-ups coalesce: one read in flight at a time, and any number of
 *   wake-ups during a read schedule exactly one more;
 * - events committed behind a still-running older transaction are "held":
 *   the hub looks again shortly (backing off), since the transaction holding
 *   the horizon may write no event and so send no notification;
 * - a failed read is retried with backoff; subscribers see no error for a
 *   transient database outage, only a delay.
 *
 * Listeners run synchronously inside the dispatch loop and must only hand
 * the event on (push to a queue); they never do I/O per subscriber.
 */
import type { Sql } from '../db/client.js';
import type { Logger } from '../log.js';
import { EVENTS_CHANNEL } from '../events/channels.js';
import { compareCursors, ORIGIN, type Cursor } from '../events/cursor.js';
import { sleep } from '../lib.js';
import { hubEvents, hubReads, hubTopics, listenConnects } from './metrics.js';
import type { LogEvent } from './sql/eventRow.js';
import { readCommittedAfter } from './sql/readCommittedAfter.js';
import { readHead } from './sql/readHead.js';
import { topicsOf, type AppTopics } from './topics.js';

export type Listener = (event: LogEvent) => void;

export interface HubOptions {
  sql: Sql;
  log: Logger;
  /** Events per tail read. */
  batchSize?: number;
  /** First and last delay of the backing-off re-check while events are held behind the horizon. */
  heldRecheckMs?: { min: number; max: number };
  /** Read even without a notification this often, in case one was lost unnoticed. */
  backstopMs?: number;
  /** First and last delay between retries of a failed read. */
  retryMs?: { min: number; max: number };
  /** The app's own topics for an event (`App.topicsOf`), besides `*` and its aggregate's. */
  appTopics?: AppTopics;
}

export interface Hub {
  /** LISTEN, and start from the current head of the log. Idempotent. */
  start(): Promise<void>;
  /** The last event dispatched: every event at or before it has reached the listeners of its time. */
  readonly position: Cursor;
  /** Add a listener to a topic; returns the function that removes it. */
  subscribe(topic: string, listener: Listener): () => void;
  /** Read now (coalesced with any read in flight). */
  wake(): void;
  /** Topics and listeners currently registered. */
  stats(): { topics: number; listeners: number };
  /** UNLISTEN and stop every timer; listeners stay registered but receive nothing more. */
  close(): Promise<void>;
}

export function createHub(opts: HubOptions): Hub {
  const { sql, log } = opts;
  const batchSize = opts.batchSize ?? 500;
  const held = opts.heldRecheckMs ?? { min: 5, max: 250 };
  const retry = opts.retryMs ?? { min: 50, max: 5_000 };
  const backstopMs = opts.backstopMs ?? 2_000;

  const topics = new Map<string, Set<Listener>>();
  let listeners = 0;
  let position: Cursor = ORIGIN;
  let starting: Promise<void> | undefined;
  let closed = false;
  let unlisten: (() => Promise<void>) | undefined;
  let backstop: NodeJS.Timeout | undefined;

  let reading = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let heldDelay = held.min;
  let retryDelay = retry.min;
  let failing = false;

  function wake(): void {
    if (closed || !starting) return;
    if (reading) {
      again = true;
      return;
    }
    void run();
  }

  /** One timer for both the held re-check and the error retry: the earliest wins. */
  function later(ms: number): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      wake();
    }, ms);
    timer.unref();
  }

  async function run(): Promise<void> {
    reading = true;
    try {
      do {
        again = false;
        await drain();
      } while (again && !closed);
    } finally {
      reading = false;
    }
  }

  async function drain(): Promise<void> {
    for (;;) {
      let batch;
      try {
        batch = await readCommittedAfter(sql, position, batchSize);
      } catch (err) {
        hubReads.inc({ outcome: 'error' });
        if (!failing) log.warn({ err }, 'realtime hub: reading the event log failed; retrying');
        failing = true;
        later(retryDelay);
        retryDelay = Math.min(retryDelay * 2, retry.max);
        return;
      }
      hubReads.inc({ outcome: 'ok' });
      if (failing) log.info('realtime hub: reading the event log again');
      failing = false;
      retryDelay = retry.min;
      if (closed) return;
      if (batch.events.length) dispatch(batch.events);
      if (batch.events.length === batchSize) continue;
      if (batch.held) {
        later(heldDelay);
        heldDelay = Math.min(heldDelay * 2, held.max);
      } else {
        heldDelay = held.min;
      }
      return;
    }
  }

  function dispatch(events: LogEvent[]): void {
    for (const event of events) {
      // Defensive: the cursor query never returns an event twice; a bug must not deliver one twice either.
      if (compareCursors(event.cursor, position) <= 0) continue;
      for (const topic of topicsOf(event, opts.appTopics)) {
        const set = topics.get(topic);
        if (!set) continue;
        for (const listener of set) {
          try {
            listener(event);
          } catch (err) {
            log.error({ err, topic, eventId: event.id }, 'realtime hub: listener failed');
          }
        }
      }
      position = event.cursor;
    }
    hubEvents.inc(events.length);
  }

  async function start(): Promise<void> {
    position = await readHead(sql);
    const listening = await sql.listen(
      EVENTS_CHANNEL,
      () => wake(),
      // Called after the first LISTEN and after every re-LISTEN that follows a
      // dropped connection: notifications sent meanwhile are lost, so catch up.
      () => {
        listenConnects.inc();
        wake();
      },
    );
    unlisten = listening.unlisten;
    backstop = setInterval(wake, backstopMs);
    backstop.unref();
    log.debug({ position: `${position.xid}:${position.seq}` }, 'realtime hub: listening');
  }

  return {
    start() {
      starting ??= start();
      return starting;
    },
    get position() {
      return position;
    },
    subscribe(topic, listener) {
      let set = topics.get(topic);
      if (!set) {
        set = new Set();
        topics.set(topic, set);
        hubTopics.inc();
      }
      set.add(listener);
      listeners++;
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        listeners--;
        set.delete(listener);
        if (set.size === 0 && topics.get(topic) === set) {
          topics.delete(topic);
          hubTopics.dec();
        }
      };
    },
    wake,
    stats: () => ({ topics: topics.size, listeners }),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (backstop) clearInterval(backstop);
      await starting?.catch(() => {});
      // UNLISTEN waits for the listen connection; during an outage, do not wait for it to return.
      await Promise.race([unlisten?.().catch(() => {}), sleep(1_000, { unref: true })]);
    },
  };
}
