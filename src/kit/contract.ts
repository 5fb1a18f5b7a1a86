/**
 * The wire contract between the dispatcher and a handler function, defined
 * once: both sides import it (the engine only this module and ./trace.ts).
 *
 * Request: `POST /<function name>`, a JSON body in Hasura Event Triggers'
 * exact shape (`HasuraEventPayload`), so functions written for Hasura run
 * unchanged; a domain event reads like a row insert into its aggregate type
 * whose `event.data.new` is the event payload plus `event_type`.
 *
 * Signature: Standard Webhooks (https://www.standardwebhooks.com), version
 * `v1`: `webhook-signature` is `v1,<base64 HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<body>">` with the shared `whsec_` secret;
 * a receiver refuses a timestamp more than SIGNATURE_TOLERANCE_SEC away from
 * its clock, and checks the signature before it parses anything.
 *
 * Trace: `traceparent`/`tracestate` continue the event's W3C trace with the
 * delivery's own span (`continueTrace`, ./trace.ts); a function's write-back
 * continues it again with its own.
 *
 * Answers (the function's side; `isRetryableStatus` is the rule in code):
 *   2xx                        delivered (including "already applied" on a redelivery)
 *   408, 429, 5xx, no answer   transient: retry with backoff, honouring Retry-After
 *   any other 4xx              permanent: retrying cannot help (400 malformed, 401 bad
 *                              signature, 404 no such function, 411/413 length, 422
 *                              event can never be processed), so dead-letter it
 * Today's dispatcher retries every non-2xx until the trigger's retries are
 * spent (src/engine/dispatcher/delivery/outcome.ts).
 */

/** Header names, lower-case as HTTP/2 and fetch's Headers give them. */
export const HEADER = {
  /** Standard Webhooks message id: the event id, the same on every redelivery. */
  webhookId: 'webhook-id',
  /** Unix seconds at signing. */
  webhookTimestamp: 'webhook-timestamp',
  /** Space-separated `v1,<base64>` signatures. */
  webhookSignature: 'webhook-signature',
  /** The event id again, under the name payment APIs and the like take. */
  idempotencyKey: 'idempotency-key',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** The trigger that caused the delivery; a function passes it back on its write-back (the loop guard). */
  trigger: 'x-threefactor-trigger',
  /** The delivery's id in threefactor.deliveries, for the operator. */
  delivery: 'x-threefactor-delivery',
  /** On a transient answer: seconds the dispatcher should wait before the next attempt. */
  retryAfter: 'retry-after',
} as const;

/** The headers the signature check reads. */
export const SIGNATURE_HEADERS = [HEADER.webhookId, HEADER.webhookTimestamp, HEADER.webhookSignature] as const;

/** How far a `webhook-timestamp` may be from the receiver's clock (the standardwebhooks package's fixed window). */
export const SIGNATURE_TOLERANCE_SEC = 5 * 60;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export type EventOp = 'INSERT' | 'UPDATE' | 'DELETE' | 'MANUAL';

export type Row = Record<string, unknown>;

/** The request body. */
export interface HasuraEventPayload {
  /** The event id: the same on every redelivery. */
  id: string;
  created_at: string;
  trigger: { name: string };
  table: { schema: string; name: string };
  event: {
    op: EventOp;
    data: { old: Row | null; new: Row | null };
    session_variables: Record<string, string> | null;
    trace_context: { trace_id: string; span_id: string } | Record<string, string> | null;
  };
  delivery_info: { max_retries: number; current_retry: number };
}
