/**
 * Ends what a token authorized once the token expires. Every new operation
 * verifies its token again, but a WebSocket connection or an SSE stream
 * opened with it would otherwise outlive it by hours. One sweep per second
 * per process over one-second buckets, instead of a timer per connection
 * (idle connections are the bulk of a realtime server's memory). WebSockets
 * are closed by their transport (./ws.ts); SSE streams by the yoga plugin
 * below.
 */
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import { unauthenticated } from '../graphql/errors.js';
import type { ServerContext } from './yoga.js';

export class ExpiryReaper<T> {
  /** Items by the second (epoch) their token expires in. */
  private readonly due = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly expire: (item: T) => void) {}

  /** End `item` at `expiresAt` (epoch ms); a token without expiry (undefined) is not watched. */
  watch(item: T, expiresAt: number | undefined): void {
    if (expiresAt === undefined) return;
    const second = Math.ceil(expiresAt / 1000);
    let bucket = this.due.get(second);
    if (!bucket) this.due.set(second, (bucket = new Set()));
    bucket.add(item);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), 1_000);
      this.timer.unref();
    }
  }

  /** Forget `item` (it ended on its own); `expiresAt` as given to `watch`. */
  unwatch(item: T, expiresAt: number | undefined): void {
    if (expiresAt === undefined) return;
    const second = Math.ceil(expiresAt / 1000);
    const bucket = this.due.get(second);
    if (!bucket?.delete(item) || bucket.size) return;
    this.due.delete(second);
    if (!this.due.size) this.stop();
  }

  close(): void {
    this.due.clear();
    this.stop();
  }

  private sweep(): void {
    const now = Date.now() / 1000;
    for (const [second, bucket] of this.due) {
      if (second > now) continue;
      this.due.delete(second);
      for (const item of bucket) this.expire(item);
    }
    if (!this.due.size) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * An SSE subscription lives no longer than its token: at expiry it gets one
 * UNAUTHENTICATED error and completes, and the client subscribes again with
 * a fresh token (resuming with its cursor or `afterVersion`). WebSocket
 * connections are closed at expiry by their transport (./ws.ts).
 */
export function endStreamsAtTokenExpiry(): Plugin<Context & ServerContext> {
  const expiry = new ExpiryReaper<ExpiringStream>((stream) => stream.expire());
  return {
    onSubscribe({ args }) {
      const { viewer, transportContext } = args.contextValue;
      if (transportContext || viewer.expiresAt === undefined) return;
      const expiresAt = viewer.expiresAt;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(new ExpiringStream(result[Symbol.asyncIterator](), expiry, expiresAt));
        },
      };
    },
  };
}

/**
 * A subscription's results until its token expires, then one UNAUTHENTICATED
 * error and the end. A plain iterator, not an async generator: a generator
 * would hold a client's `return()` (it went away) until the next result.
 */
class ExpiringStream implements AsyncIterableIterator<ExecutionResult> {
  private expired = false;
  private finished = false;

  constructor(
    private readonly inner: AsyncIterator<ExecutionResult>,
    private readonly expiry: ExpiryReaper<ExpiringStream>,
    private readonly expiresAt: number,
  ) {
    expiry.watch(this, expiresAt);
  }

  /** Ends the source; a pending `next` then resolves, and reports the expiry. */
  expire(): void {
    this.expired = true;
    void this.inner.return?.();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.finished) return { value: undefined, done: true };
    const next = this.expired ? undefined : await this.inner.next();
    if (this.expired) {
      this.finish();
      return { value: { errors: [unauthenticated('Authentication expired: subscribe again with a fresh token')] }, done: false };
    }
    if (next!.done) this.finish();
    return next!;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    await this.inner.return?.();
    return { value: undefined, done: true };
  }

  throw(): Promise<IteratorResult<ExecutionResult>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    this.finished = true;
    this.expiry.unwatch(this, this.expiresAt);
  }
}
