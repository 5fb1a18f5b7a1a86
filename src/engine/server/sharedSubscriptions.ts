/**
 * Multiplexing of identical live subscriptions on the WebSocket transport:
 * subscriptions with the same document, variables and viewer (role and sub)
 * produce the same results, so one execution can serve them all. A group's
 * operation runs as usual (authorization, scopes, masking); its results are
 * handed to every subscriber of the group, each with its own live-state
 * buffer (newest result per order for a slow client), so a change costs one
 * GraphQL execution instead of one per subscriber.
 *
 * Sharing starts with the second identical subscription. The first runs on
 * its own ("solo"), only remembered by key: most live subscriptions (a
 * customer watching an order) never get a twin, and a group's machinery
 * (pump, buffers, bookkeeping: about 3 KB) would double what an idle
 * subscriber costs. A twin starts the group, later ones join it; so N
 * identical subscriptions cost two executions, the solo's and the group's.
 *
 * Only fields that declare it share (`extensions.realtimeShare` on the
 * subscription field): live state whose result depends on nothing but the
 * arguments and the viewer. `latest` groups replay the newest result to a
 * subscriber that joins (the current state, as its own first read would
 * give); `changes` groups (feeds) send a joiner only what changes from then
 * on. Streams (`events`) never share: each has its own cursor.
 *
 * A failure to start (FORBIDDEN, NOT_FOUND) is returned to everyone waiting
 * for that start and never kept: the next subscriber tries again. When the
 * shared execution ends (an error that ends it, or the server draining),
 * every subscriber gets what is buffered, then completes. The last
 * subscriber to leave ends the shared execution.
 */
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Realtime } from '../realtime/realtime.js';
import { LiveState } from '../realtime/liveState.js';
import type { ShareMode } from '../realtime/shareMode.js';
import { sharedSubscribers } from '../realtime/metrics.js';
import { badInput, clientError } from '../graphql/errors.js';

export interface ShareRule {
  mode: ShareMode;
  /** The root field, for metrics. */
  field: string;
}

/** The share rule of an operation: a subscription with one root field that declares one. */
export function shareRuleOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): ShareRule | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return undefined;
  const selections = operation.selectionSet.selections;
  if (selections.length !== 1 || selections[0]!.kind !== 'Field') return undefined;
  const field = selections[0]!.name.value;
  const mode = schema.getSubscriptionType()?.getFields()[field]?.extensions?.realtimeShare;
  return mode === 'latest' || mode === 'changes' ? { mode, field } : undefined;
}

/**
 * The key identical subscriptions share under: the viewer (role and sub), the
 * operation, the document and the variables. Variables are the client's JSON,
 * nested as deep as it likes; nested past what JSON.stringify can take (a few
 * thousand levels) they refuse that operation alone (BAD_USER_INPUT).
 */
export function shareKey(
  viewer: { role: string; sub: string },
  payload: { operationName?: string | null; query: string; variables?: Readonly<Record<string, unknown>> | null },
): string {
  // Refused by depth, not by JSON.stringify's stack overflow: where that happens depends on the runtime (Node 20 overflows at 5,000 levels, Node 26 does not).
  if (nestedDeeperThan(payload.variables, MAX_VARIABLE_NESTING)) throw badInput(`Variables are nested too deeply (at most ${MAX_VARIABLE_NESTING} levels)`);
  return JSON.stringify([viewer.role, viewer.sub, payload.operationName ?? null, payload.query, payload.variables ?? null]);
}

/** Deeper than any input type here nests; JSON values in variables included. */
export const MAX_VARIABLE_NESTING = 64;

/** Whether objects and arrays in `value` nest deeper than `limit`, walked without recursion. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

type Started = AsyncIterable<ExecutionResult> | ExecutionResult;

interface Group {
  rule: ShareRule;
  /** Resolves to the failure result when the operation did not start (nothing shared then). */
  ready: Promise<ExecutionResult | undefined>;
  upstream?: AsyncIterator<ExecutionResult>;
  subscribers: Set<LiveState<ExecutionResult>>;
  latest?: ExecutionResult;
  pumping: boolean;
  ended: boolean;
}

export interface SharedSubscriptions {
  /** Run solo if `key` is new, else join (or start) the group of `key`; `start` runs the operation. */
  subscribe(key: string, rule: ShareRule, start: () => Promise<Started> | Started): Promise<Started>;
  /** Groups, the subscribers attached to them, and the subscriptions running solo. */
  stats(): { groups: number; subscribers: number; solo: number };
}

/**
 * The first subscription of a key, running unshared: a pass-through iterator
 * that forgets its key when it ends (done, failed or returned), so the next
 * identical subscription runs solo again instead of looking for a twin.
 */
class Solo implements AsyncIterableIterator<ExecutionResult> {
  inner?: AsyncIterator<ExecutionResult>;
  private released = false;

  constructor(
    private readonly entries: Map<string, Group | Solo>,
    private readonly counts: { solo: number },
    private readonly key: string,
    private readonly field: string,
  ) {
    entries.set(key, this);
    counts.solo++;
    sharedSubscribers.inc({ kind: field });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.counts.solo--;
    sharedSubscribers.dec({ kind: this.field });
    // A twin may have started a group under this key since: that entry is not ours.
    if (this.entries.get(this.key) === this) this.entries.delete(this.key);
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    try {
      const result = await this.inner!.next();
      if (result.done) this.release();
      return result;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.inner!.return?.() ?? Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.inner!.throw?.(err) ?? Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

/** The order (or other object) a result is about, so a slow subscriber keeps the newest per object. */
function resultKey(result: ExecutionResult): string {
  const data = result.data as Record<string, unknown> | null | undefined;
  const root = data ? Object.values(data)[0] : undefined;
  const id = root && typeof root === 'object' ? (root as { id?: unknown }).id : undefined;
  return result.errors ? '\0errors' : typeof id === 'string' ? id : '';
}

export function createSharedSubscriptions(realtime: Realtime): SharedSubscriptions {
  const entries = new Map<string, Group | Solo>();
  const counts = { solo: 0 };
  let subscriberCount = 0;

  async function pump(key: string, group: Group): Promise<void> {
    try {
      for (;;) {
        const next = await group.upstream!.next();
        if (next.done) break;
        group.latest = next.value;
        const resultAt = resultKey(next.value);
        for (const subscriber of group.subscribers) subscriber.offer(resultAt, next.value);
      }
    } catch (err) {
      // The envelop pipeline already masked what it saw; anything else is not for clients.
      const error = err instanceof GraphQLError ? err : new GraphQLError('Unexpected error.');
      for (const subscriber of group.subscribers) subscriber.offer('\0errors', { errors: [error] });
    } finally {
      group.ended = true;
      endGroup(key, group);
      for (const subscriber of [...group.subscribers]) subscriber.end();
    }
  }

  function endGroup(key: string, group: Group): void {
    if (entries.get(key) === group) entries.delete(key);
  }

  async function runSolo(key: string, rule: ShareRule, start: () => Promise<Started> | Started): Promise<Started> {
    // Registered before the start is awaited, so a twin arriving meanwhile starts the group.
    const solo = new Solo(entries, counts, key, rule.field);
    try {
      const started = await start();
      if (!isAsyncIterable(started)) {
        solo.release();
        return started;
      }
      solo.inner = started[Symbol.asyncIterator]();
      return solo;
    } catch (err) {
      solo.release();
      throw err;
    }
  }

  function leave(key: string, group: Group, subscriber: LiveState<ExecutionResult>): void {
    if (!group.subscribers.delete(subscriber)) return;
    subscriberCount--;
    sharedSubscribers.dec({ kind: group.rule.field });
    if (group.subscribers.size === 0 && !group.ended) {
      group.ended = true;
      endGroup(key, group);
      void group.upstream?.return?.();
    }
  }

  async function subscribe(key: string, rule: ShareRule, start: () => Promise<Started> | Started): Promise<Started> {
    const entry = entries.get(key);
    if (!entry) return runSolo(key, rule, start);
    let group = entry instanceof Solo ? undefined : entry;
    if (!group) {
      const created: Group = { rule, subscribers: new Set(), pumping: false, ended: false, ready: Promise.resolve(undefined) };
      created.ready = (async () => {
        try {
          const started = await start();
          if (isAsyncIterable(started)) {
            created.upstream = started[Symbol.asyncIterator]();
            return undefined;
          }
          return started;
        } catch (err) {
          // Not for keeping: the next subscriber starts afresh.
          endGroup(key, created);
          throw err;
        }
      })();
      group = created;
      entries.set(key, group);
    }
    const failure = await group.ready;
    if (failure) {
      endGroup(key, group);
      return failure;
    }
    // It ended while this subscriber waited: start afresh.
    if (group.ended) return subscribe(key, rule, start);

    const joined = group;
    const bound = realtime.subscriberBuffer;
    let untrack = () => {};
    const subscriber: LiveState<ExecutionResult> = new LiveState<ExecutionResult>(
      () => {
        untrack();
        leave(key, joined, subscriber);
      },
      bound,
      () =>
        subscriber.finish({
          errors: [clientError('SLOW_CONSUMER', `Subscriber fell behind on more than ${bound} results; subscribe again`)],
        }),
    );
    joined.subscribers.add(subscriber);
    subscriberCount++;
    sharedSubscribers.inc({ kind: rule.field });
    untrack = realtime.track(subscriber);
    if (rule.mode === 'latest' && joined.latest) subscriber.offer(resultKey(joined.latest), joined.latest);
    // The group's first subscriber is attached before the first result is read: nothing is lost to it.
    if (!joined.pumping) {
      joined.pumping = true;
      void pump(key, joined);
    }
    return subscriber;
  }

  return {
    subscribe,
    stats() {
      let groups = 0;
      for (const entry of entries.values()) if (!(entry instanceof Solo)) groups++;
      return { groups, subscribers: subscriberCount, solo: counts.solo };
    },
  };
}
