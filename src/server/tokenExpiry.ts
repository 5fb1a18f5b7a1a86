/**
 * Ends what a token authorized once the token expires. Every new operation
 * verifies its token again, but a WebSocket connection or an SSE stream
 * opened with it would otherwise outlive it by hours. One sweep per second
 * per process over one-second buckets, instead of a timer per connection
 * (idle connections are the bulk of a realtime server's memory).
 */
export class ExpiryReaper<T> {
  /** Items by the second (epoch) their token expires in. */
  private readonly due = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly expire: (item: T) => void,
    private readonly sweepMs = 1_000,
  ) {}

  /** End `item` at `expiresAt` (epoch ms); a token without expiry (undefined) is not watched. */
  watch(item: T, expiresAt: number | undefined): void {
    if (expiresAt === undefined) return;
    const second = Math.ceil(expiresAt / 1000);
    let bucket = this.due.get(second);
    if (!bucket) this.due.set(second, (bucket = new Set()));
    bucket.add(item);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
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

  get watching(): number {
    let n = 0;
    for (const bucket of this.due.values()) n += bucket.size;
    return n;
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
