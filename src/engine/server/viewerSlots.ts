/**
 * A per-viewer cap on something held open in this process (WebSocket
 * connections, SSE streams): at most `max` at once per key (the token's
 * `sub`). One counter per viewer holding any, nothing per item, so an idle
 * connection costs no closure here. The cap is per process: a viewer spread
 * over N API processes may hold N × max, still bounded per process, which is
 * what protects its memory.
 */
export class ViewerSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Take a slot for `key`; false when it already holds `max`. */
  take(key: string): boolean {
    const count = this.held.get(key) ?? 0;
    if (count >= this.max) return false;
    this.held.set(key, count + 1);
    return true;
  }

  /** Give back a slot taken for `key` (exactly once per successful `take`). */
  release(key: string): void {
    const count = this.held.get(key);
    if (count === undefined) return;
    if (count <= 1) this.held.delete(key);
    else this.held.set(key, count - 1);
  }
}
