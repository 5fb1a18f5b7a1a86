/**
 * One run of an in-process handler (dev and tests): the same body a webhook
 * would receive, the delivery and event ids its headers would carry (the
 * write-back's cause), with the same timeout, and the same outcome rule. A handler
 * that ignores the abort signal is not waited for past the timeout.
 *
 * A thrown error that carries an HTTP `status` (and `retryAfterSec`), like
 * the kit's HandlerFailure, becomes the response that failure would have
 * answered as a webhook; it is read structurally, since the engine knows
 * only the kit's wire contract. Anything else thrown is a handler error,
 * retried.
 */
import type { HasuraEventPayload } from '../../events/payload.js';
import type { InProcessDelivery, InProcessHandler } from '../../events/triggers/triggerDefinition.js';
import type { HttpResult } from './webhook.js';
import { truncateText } from './truncate.js';

export async function runInProcess(
  handler: InProcessHandler,
  payload: HasuraEventPayload,
  timeoutMs: number,
  signal: AbortSignal,
  delivery: InProcessDelivery,
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
    const run = handler(structuredClone(payload), controller.signal, { ...delivery }).then(
      (body: unknown) => ({ body }),
      (err: unknown) => ({ err }),
    );
    const result = await Promise.race([run, timedOut, aborted]);
    if (result === 'aborted') throw signal.reason;
    if (result === 'timeout') return { kind: 'error', error: `timed out after ${timeoutMs} ms`, timedOut: true };
    // What a webhook would have answered, when the handler says (a workflow step's result); else an empty body.
    if ('body' in result) return { kind: 'response', status: 200, body: result.body === undefined ? '' : truncateText(JSON.stringify(result.body)), retryAfter: null };
    const message = result.err instanceof Error ? result.err.message : String(result.err);
    const answered = statusOf(result.err);
    if (answered) {
      // The body and Retry-After the kit's fetch handler would have sent for this failure.
      return { kind: 'response', status: answered.status, body: truncateText(JSON.stringify({ error: message })), retryAfter: answered.retryAfter };
    }
    return { kind: 'error', error: truncateText(`handler threw: ${message}`), timedOut: false };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The HTTP answer a thrown value stands for, if it names a valid one: an
 * integer `status` in 300-599 (a throw is never a success, a 1xx no final
 * answer: either is a plain handler error) and, optionally, a
 * non-negative `retryAfterSec`, as a header carries it (whole seconds, rounded
 * up so the wait is never shorter than asked).
 */
function statusOf(err: unknown): { status: number; retryAfter: string | null } | null {
  if (typeof err !== 'object' || err === null) return null;
  let status: unknown;
  let retryAfterSec: unknown;
  try {
    ({ status, retryAfterSec } = err as { status?: unknown; retryAfterSec?: unknown });
  } catch {
    // A throwing getter is the handler's bug, not a status: a plain handler error.
    return null;
  }
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 300 || status > 599) return null;
  const delay = typeof retryAfterSec === 'number' && Number.isFinite(retryAfterSec) && retryAfterSec >= 0 ? retryAfterSec : null;
  return { status, retryAfter: delay === null ? null : String(Math.ceil(delay)) };
}
