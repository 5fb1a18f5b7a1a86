/**
 * Stream buffering: every item, in order, up to a bound. Going over the
 * bound calls `onOverflow`, which finishes the stream (with an error that
 * says where to resume) rather than let a slow client grow server memory.
 */
import { Channel } from './channel.js';
import { slowConsumers } from './metrics.js';

export class StreamQueue<T> extends Channel<T> {
  private items: T[] = [];
  private head = 0;
  private roomWaiters: Array<() => void> = [];

  constructor(
    onClose: () => void,
    readonly capacity: number,
    private readonly onOverflow: () => void,
    /** Called as an item leaves the buffer for the consumer: from then on it is the client's. */
    private readonly onTake: (item: T) => void = () => {},
  ) {
    super(onClose);
  }

  get buffered(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (!this.isOpen) return;
    if (this.buffered >= this.capacity) {
      slowConsumers.inc({ action: 'closed' });
      this.onOverflow();
      return;
    }
    this.items.push(item);
    this.wakeConsumer();
  }

  /** Resolves once at most `level` items are buffered (or the stream ended): producers that can wait, wait. */
  until(level: number): Promise<void> {
    if (this.buffered <= level || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.buffered <= level || !this.isOpen) resolve();
        else this.roomWaiters.push(check);
      };
      this.roomWaiters.push(check);
    });
  }

  protected take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    this.onTake(item);
    // Compact now and then, so a long-lived stream's array does not only grow.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.releaseWaiters();
    return item;
  }

  protected clear(): void {
    this.items = [];
    this.head = 0;
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    if (!this.roomWaiters.length) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const check of waiters) check();
  }
}
