/**
 * Wake-ups at known times (retries this process scheduled, a rate limit's
 * next token): one timer for the earliest, re-armed for the next when it
 * fires, so no due time waits for the poll. Times are kept on the monotonic
 * clock (performance.now()) and each one is a delay the database computed
 * from its own clock (the retry's run_at is now() + delay there), so neither
 * a skewed nor a jumping host clock moves them.
 */

/** Beyond this many waiting times the latest are dropped; the poll backstop still claims them. */
const MAX_TIMES = 10_000;
/** Due times this close together share one wake-up. */
const MERGE_MS = 1;
/**
 * setTimeout fires on a millisecond clock, and a run_at is stored rounded to
 * the millisecond: firing this much after the due time keeps the claim from
 * arriving just before it and finding nothing.
 */
const MARGIN_MS = 2;

export class RetryTimers {
  /** Due times (performance.now() ms), ascending. */
  private times: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  private closed = false;

  constructor(private readonly onDue: () => void) {}

  /** Wake in `ms` (a delay measured from now). */
  add(ms: number): void {
    if (this.closed) return;
    const at = performance.now() + Math.max(0, ms) + MARGIN_MS;
    // Binary search for the insertion point; the splice below is a native memmove.
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    if ((i > 0 && at - this.times[i - 1]! < MERGE_MS) || (i < this.times.length && this.times[i]! - at < MERGE_MS)) return;
    if (this.times.length >= MAX_TIMES) {
      if (i === this.times.length) return;
      this.times.pop();
    }
    this.times.splice(i, 0, at);
    this.arm();
  }

  get size(): number {
    return this.times.length;
  }

  close(): void {
    this.closed = true;
    this.times = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    const next = this.times[0];
    if (next === undefined || next >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = next;
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(next - performance.now())));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = performance.now();
    let due = 0;
    while (due < this.times.length && this.times[due]! <= now) due++;
    // A timer may fire a fraction of a millisecond early: such a time stays for the next one.
    this.times.splice(0, due);
    this.arm();
    if (due > 0) this.onDue();
  };
}
