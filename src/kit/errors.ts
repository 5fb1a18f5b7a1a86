/**
 * How a handler says it failed. Each failure carries the HTTP status it
 * answers with, and with it what the dispatcher does, by the contract's
 * status rule (./contract.ts, `statusOutcome`): under a trigger's default
 * policy 400, 413 and 422 are dead at once, 410 pauses the trigger, and
 * everything else (5xx, 408, 429, 401, 404, ...) is retried with backoff,
 * honouring `retryAfterSec`. A trigger may name other permanent statuses, so
 * `retryable` answers for the default policy only. In-process calls throw
 * the same HandlerFailure and the dispatcher reads its `status` and
 * `retryAfterSec`, so both transports fail alike.
 */
import { isRetryableStatus } from './contract.js';

export class HandlerFailure extends Error {
  override name = 'HandlerFailure';
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }

  /** Retried with backoff under the default policy (not dead at once, not a pause). */
  get retryable(): boolean {
    return isRetryableStatus(this.status);
  }
}

/** The event can never be processed (e.g. it lacks a field the function needs): 422, dead at once by default. */
export class PermanentFailure extends HandlerFailure {
  override name = 'PermanentFailure';
  constructor(message: string) {
    super(message, 422);
  }
}

/** Not now, maybe later (e.g. no driver is free): 503 with Retry-After. */
export class RetryLater extends HandlerFailure {
  override name = 'RetryLater';
  constructor(message: string, retryAfterSec = 30) {
    super(message, 503, retryAfterSec);
  }
}

/** The API answered the write-back with GraphQL errors: 502, retried. */
export class GraphqlRequestError extends HandlerFailure {
  override name = 'GraphqlRequestError';
  constructor(
    message: string,
    /** `extensions.code` of each error, e.g. ILLEGAL_TRANSITION. */
    readonly codes: string[],
  ) {
    super(message, 502);
  }
}

/** The API could not be reached or answered without GraphQL (5xx, timeout): 503, retried. */
export class ApiUnavailable extends HandlerFailure {
  override name = 'ApiUnavailable';
  constructor(message: string) {
    super(message, 503, 5);
  }
}

/** Any thrown value as a HandlerFailure: unknown errors are 500 and keep only their message. */
export function asFailure(err: unknown): HandlerFailure {
  if (err instanceof HandlerFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HandlerFailure(message || 'handler failed', 500);
}
