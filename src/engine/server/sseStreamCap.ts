/**
 * A cap on the SSE subscription streams one viewer (token `sub`) holds open
 * in this process, MAX_SSE_STREAMS_PER_VIEWER: one stream is one HTTP
 * request with one operation, so without it a viewer could open them without
 * bound. The stream over the cap is answered 429 with one TOO_MANY_OPERATIONS
 * error, before anything is subscribed; a stream gives its slot back when it
 * ends (completed, failed, or the client gone). WebSocket operations are
 * capped by their transport instead (./ws.ts: per connection, connections
 * per viewer).
 */
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import { clientError } from '../graphql/errors.js';
import { ViewerSlots } from './viewerSlots.js';
import type { ServerContext } from './yoga.js';

export function capStreamsPerViewer(max: number): Plugin<Context & ServerContext> {
  const slots = new ViewerSlots(max);
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const { viewer, transportContext } = args.contextValue;
      if (transportContext) return;
      const key = viewer.sub;
      if (!slots.take(key)) {
        setResultAndStopExecution({
          errors: [clientError('TOO_MANY_OPERATIONS', `Too many subscription streams for this viewer (at most ${max} per server): close one first`)],
        });
        return;
      }
      // A subscribe that throws hands no result to onSubscribeResult below: give the slot back here.
      setSubscribeFn(async (subscribeArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (err) {
          slots.release(key);
          throw err;
        }
      });
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(new HeldStream(result[Symbol.asyncIterator](), slots, key));
          else slots.release(key);
        },
      };
    },
  };
}

/**
 * A stream's results, holding its viewer's slot until it ends. A plain
 * iterator, not an async generator: a generator would hold a client's
 * `return()` (it went away) until the next result, and the slot with it.
 */
class HeldStream implements AsyncIterableIterator<ExecutionResult> {
  private held = true;

  constructor(
    private readonly inner: AsyncIterator<ExecutionResult>,
    private readonly slots: ViewerSlots,
    private readonly key: string,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult>> {
    try {
      const next = await this.inner.next();
      if (next.done) this.release();
      return next;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.inner.return?.() ?? Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return this.inner.throw?.(err) ?? Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    this.slots.release(this.key);
  }
}
