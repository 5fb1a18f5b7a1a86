/**
 * One run of an in-process handler (dev and tests): the same body a webhook
 * would receive, with the same timeout. A handler that ignores the abort
 * signal is not waited for past the timeout.
 */
import type { HasuraEventPayload } from '../../events/payload.js';
import type { InProcessHandler } from '../../events/triggers/triggerDefinition.js';
import type { HttpResult } from './webhook.js';
import { truncateText } from './truncate.js';

export async function runInProcess(
  handler: InProcessHandler,
  payload: HasuraEventPayload,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HttpResult> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      resolve('timeout');
    }, timeoutMs);
  });
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    // A deep copy: a handler mutating its body must not change what a retry sends.
    const run = handler(structuredClone(payload), controller.signal).then(
      () => 'ok' as const,
      (err: unknown) => ({ err }),
    );
    const result = await Promise.race([run, timedOut, aborted]);
    if (result === 'aborted') throw signal.reason;
    if (result === 'timeout') return { kind: 'error', error: `timed out after ${timeoutMs} ms`, timedOut: true };
    if (result === 'ok') return { kind: 'response', status: 200, body: '', retryAfter: null };
    const message = result.err instanceof Error ? result.err.message : String(result.err);
    return { kind: 'error', error: truncateText(`handler threw: ${message}`), timedOut: false };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
