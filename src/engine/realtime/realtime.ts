/**
 * The process's realtime service, as the GraphQL context sees it: the hub
 * (one LISTEN connection, in-memory topics, plus the app's own topics), the
 * shared live-state feeds and the watched causal trees on top of it, and the
 * per-subscriber bound. One per API process.
 */
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { createCausalTreeRegistry, type CausalTreeRegistry } from './causalTrees.js';
import { createHub, type Hub, type HubOptions } from './hub.js';
import { createFeedRegistry, type FeedRegistry } from './sharedFeed.js';
import type { AppTopics } from './topics.js';

export interface Realtime {
  hub: Hub;
  feeds: FeedRegistry;
  /** The watched causal trees: one read per hub tick for every tree that changed. */
  trees: CausalTreeRegistry;
  database: Database;
  log: Logger;
  /** Per subscriber: events buffered by a stream, distinct states pending in a live feed. */
  subscriberBuffer: number;
  start(): Promise<void>;
  /** Keep track of an open subscription, so close() can end it; returns the untrack function. */
  track(subscription: Finishable): () => void;
  /** Open subscriptions, and the items they hold for their clients (memory held for slow clients). */
  stats(): { subscriptions: number; buffered: number };
  /** End every open subscription (their transports complete them) and stop the hub. */
  close(): Promise<void>;
}

export interface Finishable {
  finish(): void;
  /** Items waiting for the client right now. */
  readonly buffered: number;
}

export interface RealtimeOptions {
  subscriberBuffer: number;
  hub?: Omit<HubOptions, 'sql' | 'log' | 'appTopics'>;
  /** The app's own topics for an event (`App.topicsOf`). */
  topicsOf?: AppTopics;
}

/** An app's topicsOf that throws must not stop the hub's dispatch: the event still reaches its engine topics. */
function guarded(topicsOf: AppTopics, log: Logger): AppTopics {
  return (event) => {
    try {
      return topicsOf(event);
    } catch (err) {
      log.error({ err, eventId: event.id }, 'realtime: App.topicsOf failed; the event goes to its default topics only');
      return [];
    }
  };
}

export function createRealtime(database: Database, log: Logger, opts: RealtimeOptions): Realtime {
  const realtimeLog = log.child({ component: 'realtime' });
  const appTopics = opts.topicsOf && guarded(opts.topicsOf, realtimeLog);
  // The hub LISTENs, a session's: on the direct connection, past a transaction pooler.
  const hub = createHub({ sql: database.direct, log: realtimeLog, ...opts.hub, appTopics });
  const open = new Set<Finishable>();
  return {
    hub,
    feeds: createFeedRegistry(hub, database.db, realtimeLog),
    trees: createCausalTreeRegistry(hub, database.sql, realtimeLog),
    database,
    log: realtimeLog,
    subscriberBuffer: opts.subscriberBuffer,
    start: () => hub.start(),
    track(subscription) {
      open.add(subscription);
      return () => open.delete(subscription);
    },
    stats() {
      let buffered = 0;
      for (const subscription of open) buffered += subscription.buffered;
      return { subscriptions: open.size, buffered };
    },
    async close() {
      for (const subscription of [...open]) subscription.finish();
      open.clear();
      await hub.close();
    },
  };
}
