/**
 * Live-state buffering: a subscriber that cannot keep up skips intermediate
 * states but always gets the latest. At most one pending value per key (one
 * key for a single order, one per order for a feed), and a bound on the keys.
 */
import { Channel } from './channel.js';
import { slowConsumers } from './metrics.js';

export class LiveState<T> extends Channel<T> {
  private readonly pending = new Map<string, T>();

  constructor(
    onClose: () => void,
    /** More distinct keys pending than this, and the subscriber is cut off by `onOverflow`. */
    private readonly maxKeys: number,
    private readonly onOverflow: () => void,
  ) {
    super(onClose);
  }

  get buffered(): number {
    return this.pending.size;
  }

  /** Offer the newest value for a key, replacing any older one still pending. */
  offer(key: string, value: T): void {
    if (!this.isOpen) return;
    if (this.pending.has(key)) {
      // Replaced in place: the key keeps its turn (it has waited longest), with the newest value.
      slowConsumers.inc({ action: 'coalesced' });
    } else if (this.pending.size >= this.maxKeys) {
      slowConsumers.inc({ action: 'closed' });
      this.onOverflow();
      return;
    }
    this.pending.set(key, value);
    this.wakeConsumer();
  }

  protected take(): T | undefined {
    const first = this.pending.entries().next();
    if (first.done) return undefined;
    this.pending.delete(first.value[0]);
    return first.value[1];
  }

  protected clear(): void {
    this.pending.clear();
  }
}
