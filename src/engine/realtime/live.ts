/**
 * Live subscriptions: THE entry point an app builds a live-state
 * subscription field with. The app says what a subscriber watches (a hub
 * topic), which rows it re-reads (`LiveRows`: batched, shared by every field
 * that reads them), and who may see a row (`admit`); `liveSubscription`
 * returns the field's `subscribe`, `resolve` and `extensions`:
 *
 *   builder.subscriptionField('order', (t) => t.field({ type: OrderRef, args: {…},
 *     ...liveSubscription({ kind: 'order', shape: 'row', rows: liveOrders, topic, admit, initial, afterVersion }) }));
 *
 * The engine does the rest: one shared read per change for all subscribers
 * in the process (sharedFeed.ts), newest-state buffering (liveState.ts:
 * `row` holds one pending state; `feed` one per row, more than
 * SUBSCRIPTION_BUFFER rows pending ends it with SLOW_CONSUMER), sharing of
 * identical WebSocket subscriptions (`realtimeShare`: `latest` for a row,
 * `changes` for a feed), metrics, and ending on drain (`Realtime.track`).
 *
 * An idle subscriber is one object (a LiveState that is its own feed member
 * and its own close and overflow hooks) plus the untrack function: no
 * closure per subscriber, so idle subscribers stay cheap.
 */
import type { GraphQLError } from 'graphql';
import type { Context, Viewer } from '../graphql/context.js';
import { clientError } from '../graphql/errors.js';
import { unwrapDelivery, type Delivery } from './delivery.js';
import { LiveState } from './liveState.js';
import { subscribers } from './metrics.js';
import type { FeedMember, JoinedFeed, LiveRows } from './sharedFeed.js';
import type { ShareExtension } from './shareMode.js';
import type { LogEvent } from './sql/eventRow.js';

export type { LiveRows };

/** What a viewer gets of a row: it is sent, it is skipped (a feed row not theirs), or the subscription ends with this error. */
export type Admission = 'send' | 'skip' | GraphQLError;

interface LiveSpecBase<Row, Args> {
  /** The metric label (`threefactor_realtime_subscribers{kind}`, delivery latency): usually the field's name. */
  kind: string;
  /** The rows re-read when an event on the topic changes one. */
  rows: LiveRows<Row>;
  /** The hub topic a subscriber watches; throwing a client error refuses the subscription. */
  topic(args: Args, ctx: Context): string;
  /** Applied to every row before it is sent: the row rule, on the viewer alone (sharing relies on it). */
  admit(row: Row, viewer: Viewer): Admission;
}

/** One row's live state: the newest state, at most one pending. */
export interface LiveRowSpec<Row, Args> extends LiveSpecBase<Row, Args> {
  shape: 'row';
  /**
   * The current state, sent at once unless the client has it. Throwing (NOT_FOUND), or an error
   * from `admit` for it, refuses the subscription.
   */
  initial?(args: Args, ctx: Context): Promise<Row>;
  /** The version the client already has (resuming after a reconnect): nothing at or below it is sent. */
  afterVersion?(args: Args): number | null | undefined;
}

/**
 * A feed of rows as they change, from the moment of subscribing: the newest state per row, at most
 * SUBSCRIPTION_BUFFER rows pending. "The moment" is the hub's: a change committed just before the
 * subscription, that the hub had not dispatched yet, comes too, as the row's current state (which
 * also closes the gap between a client's query and its subscription).
 */
export interface LiveFeedSpec<Row, Args> extends LiveSpecBase<Row, Args> {
  shape: 'feed';
}

export type LiveSubscriptionSpec<Row, Args> = LiveRowSpec<Row, Args> | LiveFeedSpec<Row, Args>;

/** A subscription field's `subscribe`, `resolve` and `extensions`, to spread into `t.field({ … })`. */
export interface LiveField<Row, Args> {
  subscribe(root: unknown, args: Args, ctx: Context): Promise<AsyncIterableIterator<Delivery<Row>>>;
  resolve(delivery: Delivery<Row>): Row;
  extensions: ShareExtension;
}

/** A single row's state is buffered under this one key: the newest state replaces any pending one. */
const ROW = '';

/** What a subscription keeps of its field's spec (the spec itself: no copy per subscriber). */
type Rule<Row> = Pick<LiveSubscriptionSpec<Row, never>, 'kind' | 'shape' | 'rows' | 'admit'>;

/** One subscriber: its own buffer, feed member and close and overflow hooks; it allocates nothing else but its untrack function. */
class LiveSubscription<Row> extends LiveState<Delivery<Row>> implements FeedMember<Row> {
  private feed?: JoinedFeed<Row>;
  private untrack?: () => void;

  constructor(
    private readonly rule: Rule<Row>,
    private readonly viewer: Viewer,
    maxKeys: number,
    /** The newest version sent (or the client's `afterVersion`); a row's only: it orders the initial read and the feed. */
    private sent: number,
  ) {
    super(undefined, maxKeys);
  }

  join(ctx: Context, topic: string): void {
    subscribers.inc({ kind: this.rule.kind });
    this.feed = ctx.realtime.feeds.join(this.rule.rows, topic, this);
    this.untrack = ctx.realtime.track(this);
  }

  /** A fresh row from the feed: admitted, skipped, or the end of the subscription. */
  receive(key: string, row: Row, cause: LogEvent): void {
    if (!this.isOpen) return;
    const admission = this.rule.admit(row, this.viewer);
    if (admission === 'skip') return;
    if (admission !== 'send') return this.finish({ error: admission });
    this.send(key, row, cause);
  }

  /** An admitted row, unless the client has it already (rows only: the initial read and the feed race). */
  send(key: string, row: Row, cause?: LogEvent): void {
    const single = this.rule.shape === 'row';
    if (single) {
      const version = this.rule.rows.versionOf(row);
      if (version <= this.sent) return;
      this.sent = version;
    }
    this.offer(single ? ROW : key, { value: row, causedAt: cause?.createdAt });
  }

  protected override overflowed(): void {
    this.finish({
      error: clientError('SLOW_CONSUMER', `Subscriber fell behind on more than ${this.maxKeys} rows; subscribe again and re-query`),
    });
  }

  protected override closed(): void {
    this.feed?.leave(this);
    this.untrack?.();
    subscribers.dec({ kind: this.rule.kind });
  }
}

export function liveSubscription<Row, Args>(spec: LiveSubscriptionSpec<Row, Args>): LiveField<Row, Args> {
  const { kind } = spec;
  return {
    subscribe: (_root, args, ctx) => subscribeLive(spec, args, ctx),
    resolve: (delivery) => unwrapDelivery(delivery, kind),
    // Results depend on the arguments and the viewer only, so identical WebSocket subscriptions may share an execution.
    extensions: { realtimeShare: spec.shape === 'row' ? 'latest' : 'changes' },
  };
}

async function subscribeLive<Row, Args>(spec: LiveSubscriptionSpec<Row, Args>, args: Args, ctx: Context): Promise<LiveSubscription<Row>> {
  const topic = spec.topic(args, ctx);
  const { realtime } = ctx;
  await realtime.start();
  const single = spec.shape === 'row';
  const after = single ? spec.afterVersion?.(args) : undefined;
  const maxKeys = single ? 1 : realtime.subscriberBuffer;
  const subscription = new LiveSubscription<Row>(spec, ctx.viewer, maxKeys, after ?? Number.NEGATIVE_INFINITY);
  // Joined before the initial read, so a change committed in between is not missed.
  subscription.join(ctx, topic);
  if (spec.shape === 'row' && spec.initial) {
    try {
      const row = await spec.initial(args, ctx);
      // A current state the viewer may not see refuses the subscription: nothing is sent, nothing kept.
      const admission = spec.admit(row, ctx.viewer);
      if (typeof admission !== 'string') throw admission;
      if (admission === 'send') subscription.send(ROW, row);
    } catch (err) {
      await subscription.return();
      throw err;
    }
  }
  return subscription;
}
