/**
 * A resumable stream of the event log for one subscriber: history after the
 * client's cursor, read from the table in pages, then live events from the
 * hub, in (xid, seq) order with nothing missed and nothing twice.
 *
 * The hand-over is exact because it is synchronous: history is read up to the
 * hub's current position; when a page returns and the stream's cursor has
 * reached the hub's position, it joins the hub's topic in the same tick, so
 * the next event the hub dispatches is the next one the stream needs. A
 * client whose cursor is ahead of this process's hub (it came from another
 * process) joins at once and skips what it has already seen.
 *
 * History is paced by the consumer (a page is read only when the previous
 * one has mostly been sent). Live events are not: a subscriber that falls
 * more than `capacity` events behind is finished with an error carrying the
 * cursor of the last event it was given, from which it can resume.
 */
import type { Sql } from '../db/client.js';
import type { Logger } from '../log.js';
import { compareCursors, type Cursor } from '../events/cursor.js';
import { isEngineEventType } from '../events/engineEvents.js';
import { sleep } from '../lib.js';
import type { Hub } from './hub.js';
import type { LogEvent } from './sql/eventRow.js';
import { readRange, type EventFilter } from './sql/readRange.js';
import { StreamQueue } from './streamQueue.js';
import { aggregateTopic, ALL } from './topics.js';

export type { EventFilter };

export type StreamItem = { event: LogEvent } | { overflow: { cursor: Cursor; capacity: number } };

export interface EventStreamOptions {
  hub: Hub;
  sql: Sql;
  log: Logger;
  /** Resume after this position; null: only events committed from now on. */
  after: Cursor | null;
  filter: EventFilter;
  /** The most events buffered for a subscriber before it is cut off. */
  capacity: number;
  pageSize?: number;
  onClose?: () => void;
}

export function matches(filter: EventFilter, event: LogEvent): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.aggregateType && filter.aggregateType !== event.aggregateType) return false;
  if (filter.aggregateId && filter.aggregateId !== event.aggregateId) return false;
  if (filter.withoutEngineEvents && isEngineEventType(event.type)) return false;
  return true;
}

export interface EventStream extends AsyncIterableIterator<StreamItem> {
  /** End the stream now (server draining). */
  finish(): void;
  readonly buffered: number;
}

export function streamEvents(opts: EventStreamOptions): EventStream {
  const { hub, sql, filter, capacity } = opts;
  // Pages of at most half the bound, read only when a page's worth of room is free: history never overflows.
  const pageSize = Math.max(1, Math.min(opts.pageSize ?? 200, Math.floor(capacity / 2)));
  const topic = filter.aggregateType && filter.aggregateId ? aggregateTopic(filter.aggregateType, filter.aggregateId) : ALL;
  let leave: (() => void) | undefined;
  // Without `after`, the stream starts at the hub's position: that is where it resumes if cut off at once.
  const start = opts.after ?? hub.position;
  /** The last event handed to the client (what it can resume after). */
  let delivered: Cursor = start;
  /** The last event put in the queue. */
  let queued: Cursor = start;

  const queue: StreamQueue<StreamItem> = new StreamQueue<StreamItem>(
    () => {
      leave?.();
      opts.onClose?.();
    },
    capacity,
    () => queue.finish({ overflow: { cursor: delivered, capacity } }),
    (item) => {
      if ('event' in item) delivered = item.event.cursor;
    },
  );

  const enqueue = (event: LogEvent) => {
    queued = event.cursor;
    queue.push({ event });
  };

  const joinLive = () => {
    leave = hub.subscribe(topic, (event) => {
      if (compareCursors(event.cursor, queued) <= 0) return;
      if (matches(filter, event)) enqueue(event);
    });
  };

  async function catchUp(from: Cursor): Promise<void> {
    let cursor = from;
    let retryMs = 50;
    while (queue.isOpen) {
      const upTo = hub.position;
      if (compareCursors(cursor, upTo) >= 0) return joinLive();
      let page: LogEvent[];
      try {
        page = await readRange(sql, cursor, upTo, filter, pageSize);
        retryMs = 50;
      } catch (err) {
        // A database outage delays the catch-up; it is not the client's error.
        opts.log.warn({ err }, 'event stream: reading history failed; retrying');
        await sleep(retryMs, { unref: true });
        retryMs = Math.min(retryMs * 2, 5_000);
        continue;
      }
      if (!queue.isOpen) return;
      for (const event of page) enqueue(event);
      cursor = page.length === pageSize ? page[page.length - 1]!.cursor : upTo;
      await queue.until(capacity - pageSize);
    }
  }

  if (opts.after === null) joinLive();
  else
    void catchUp(opts.after).catch((err: unknown) => {
      opts.log.error({ err }, 'event stream: catch-up failed');
      queue.return();
    });

  return {
    next: () => queue.next(),
    return: () => queue.return(),
    throw: () => queue.throw(),
    finish: () => queue.finish(),
    get buffered() {
      return queue.buffered;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
