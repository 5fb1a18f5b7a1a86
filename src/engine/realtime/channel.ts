/**
 * The async iterator behind every subscription: producers push, the
 * transport pulls one item at a time (graphql-ws awaits each socket write, SSE
 * each stream pull), so a slow client leaves items in the buffer instead of
 * in socket memory. Subclasses decide how the buffer is bounded: live state
 * keeps only the newest value per key, a stream keeps a bounded queue.
 *
 * `finish(final)` drops whatever is buffered, yields `final` and ends;
 * `end()` lets what is buffered go out, then ends; `return()` (the client
 * went away) ends at once. Either way `closed()` runs exactly once, which is
 * where subscribers leave their topics: it calls `onClose`, or a subclass
 * that is its own subscriber overrides it (no closure per subscriber).
 */
export abstract class Channel<T> implements AsyncIterableIterator<T> {
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private final: T | undefined;
  private finishing = false;
  private done = false;
  private isClosed = false;

  constructor(private readonly onClose?: () => void) {}

  /** The next buffered item, removed from the buffer. */
  protected abstract take(): T | undefined;
  protected abstract clear(): void;
  abstract get buffered(): number;

  get isOpen(): boolean {
    return !this.finishing && !this.done;
  }

  /** Subclasses call this after buffering an item. */
  protected wakeConsumer(): void {
    if (!this.waiter) return;
    const value = this.take();
    if (value === undefined) return;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter({ value, done: false });
  }

  finish(final?: T): void {
    if (!this.isOpen) return;
    this.clear();
    this.final = final;
    this.stopTaking();
  }

  /** Take no more items; what is buffered still goes out, then the iterator ends. */
  end(): void {
    if (!this.isOpen) return;
    this.stopTaking();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    const value = this.take();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.finishing) return Promise.resolve(this.afterFinish());
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.clear();
    this.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The shared tail of finish() and end(). A waiting consumer means nothing is buffered: it gets the end now. */
  private stopTaking(): void {
    this.finishing = true;
    this.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(this.afterFinish());
  }

  private afterFinish(): IteratorResult<T> {
    const final = this.final;
    this.final = undefined;
    if (final !== undefined) return { value: final, done: false };
    this.done = true;
    return { value: undefined, done: true };
  }

  /** Runs once, when the channel closes (finished, ended or returned). */
  protected closed(): void {
    this.onClose?.();
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closed();
  }
}
