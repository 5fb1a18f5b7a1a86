/**
 * Live-state buffering: a subscriber that cannot keep up skips intermediate
 * states but always gets the latest. At most one pending value per key (one
 * key for a single order, one per order for a feed), and a bound on the keys.
 */
import { Channel } from './channel.js';
import { slowConsumers } from './metrics.js';

export class LiveState<T> extends Channel<T> {
  // The oldest pending value sits in a slot, the rest (a feed's other keys, rarely) in a Map made
  // on demand: most subscribers hold one key at most, and an idle one should cost no Map.
  private slotKey: string | undefined;
  private slotValue: T | undefined;
  /** Pending values that arrived after the slot's, in order; while it holds any, new keys queue here, not in the slot. */
  private more: Map<string, T> | undefined;

  constructor(
    onClose: (() => void) | undefined,
    /** More distinct keys pending than this, and the subscriber is cut off by `overflowed()`. */
    protected readonly maxKeys: number,
    private readonly onOverflow?: () => void,
  ) {
    super(onClose);
  }

  /** A new key arrived with `maxKeys` pending: calls `onOverflow`, or a subclass overrides it. */
  protected overflowed(): void {
    this.onOverflow?.();
  }

  get buffered(): number {
    return (this.slotKey === undefined ? 0 : 1) + (this.more?.size ?? 0);
  }

  /** Offer the newest value for a key, replacing any older one still pending. */
  offer(key: string, value: T): void {
    if (!this.isOpen) return;
    if (this.slotKey === key || this.more?.has(key)) {
      // Replaced in place: the key keeps its turn (it has waited longest), with the newest value.
      slowConsumers.inc({ action: 'coalesced' });
      if (this.slotKey === key) this.slotValue = value;
      else this.more!.set(key, value);
    } else if (this.buffered >= this.maxKeys) {
      slowConsumers.inc({ action: 'closed' });
      this.overflowed();
      return;
    } else if (this.slotKey === undefined && !this.more?.size) {
      this.slotKey = key;
      this.slotValue = value;
    } else {
      (this.more ??= new Map()).set(key, value);
    }
    this.wakeConsumer();
  }

  protected take(): T | undefined {
    if (this.slotKey !== undefined) {
      const value = this.slotValue;
      this.slotKey = this.slotValue = undefined;
      return value;
    }
    const first = this.more?.entries().next();
    if (!first || first.done) return undefined;
    this.more!.delete(first.value[0]);
    return first.value[1];
  }

  protected clear(): void {
    this.slotKey = this.slotValue = undefined;
    this.more = undefined;
  }
}
