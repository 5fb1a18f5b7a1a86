/**
 * The engine's small shared helpers (graphile-worker's lib.ts style): one
 * definition of each, imported wherever it is needed.
 */

/** The message of anything thrown, for a log field: never a stack, never `[object Object]` for an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface SleepOptions {
  /** Ends the sleep early (it resolves, never rejects). */
  signal?: AbortSignal;
  /** The timer does not keep the process alive (a give-up race, a backstop). */
  unref?: boolean;
}

export function sleep(ms: number, opts: SleepOptions = {}): Promise<void> {
  const { signal } = opts;
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (opts.unref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Milliseconds left until `deadline` (epoch ms), never negative. */
export function msUntil(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
