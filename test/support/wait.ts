/**
 * Waiting for a condition that some other part makes true asynchronously
 * (a subscription registered, a process ready). Fails with a message after a
 * deadline instead of hanging the test.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Retry `attempt` until it resolves (e.g. the first writes after a database restart); rethrows the last error after a deadline. */
export async function eventually<T>(attempt: () => Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
