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
 * its clock, and checks the signature before it parses anything. The secret
 * setting may hold several secrets (`webhookSecrets`, for rotation): the
 * sender signs with each, space-separated signatures in the one header, and
 * a receiver accepts a signature valid under any of its own.
 *
 * Trace: `traceparent`/`tracestate` continue the event's W3C trace with the
 * delivery's own span (`continueTrace`, ./trace.ts); a function's write-back
 * continues it again with its own.
 *
 * Cause: every delivery carries `x-threefactor-trigger`, `x-threefactor-delivery`
 * and `x-threefactor-event`, and a function passes all three back, unchanged,
 * on the write-back it makes while handling that delivery (the kit does:
 * ./graphqlClient.ts). The API takes them from the service and admin roles
 * only: the trigger is the loop guard (events written are not routed to it
 * again), the delivery and event are recorded on every event the write-back
 * commits (`caused_by_delivery`, `caused_by_event`), the edges of the causal
 * tree. Both must be UUIDs, and one without the other is refused (400).
 *
 * Answers (the function's side; `statusOutcome` is the rule in code, and the
 * dispatcher applies it with each trigger's policy):
 *   2xx                        delivered (including "already applied" on a redelivery)
 *   400, 413, 422              permanent by default (DEFAULT_PERMANENT_STATUSES): retrying
 *                              cannot help (malformed, too long, the event can never be
 *                              processed), so the delivery is dead at once
 *   410                        gone: the trigger is paused (Standard Webhooks); the
 *                              delivery waits, its attempt not counted, until resumed
 *   anything else, no answer   retried with backoff, honouring Retry-After, until the
 *                              trigger's retries are spent: 408, 429, 5xx, and also 401
 *                              (a mis-rotated secret) and 404 (a rolling deploy), which
 *                              must not dead-letter a whole backlog
 * A trigger may name its own permanent statuses and turn the 410 pause off;
 * one loaded from Hasura metadata has none and no pause (Hasura retries every
 * non-2xx) unless its metadata opts in.
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
  /** The delivery's id in threefactor.deliveries; a function passes it back on its write-back (the cause). */
  delivery: 'x-threefactor-delivery',
  /**
   * The id of the event delivered; a function passes it back on its write-back (the cause). Its own header, not
   * webhook-id: that is the message id, which need not stay the event id.
   */
  event: 'x-threefactor-event',
  /** On a transient answer: seconds the dispatcher should wait before the next attempt. */
  retryAfter: 'retry-after',
} as const;

/** The headers the signature check reads. */
export const SIGNATURE_HEADERS = [HEADER.webhookId, HEADER.webhookTimestamp, HEADER.webhookSignature] as const;

/** The secrets of a WEBHOOK_SECRET setting: one or more `whsec_…`, separated by whitespace. */
export function webhookSecrets(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}

/** How far a `webhook-timestamp` may be from the receiver's clock (the standardwebhooks package's fixed window). */
export const SIGNATURE_TOLERANCE_SEC = 5 * 60;

/** The statuses a trigger dead-letters at once unless it names its own. Not 401 or 404: see above. */
export const DEFAULT_PERMANENT_STATUSES: readonly number[] = Object.freeze([400, 413, 422]);

/** Gone for good: pauses the trigger rather than failing the delivery (Standard Webhooks). */
export const GONE_STATUS = 410;

/** How a trigger reads an answer; the dispatcher's default is DEFAULT_STATUS_POLICY. */
export interface StatusPolicy {
  permanentStatuses: readonly number[];
  pauseOnGone: boolean;
}

export const DEFAULT_STATUS_POLICY: StatusPolicy = Object.freeze({ permanentStatuses: DEFAULT_PERMANENT_STATUSES, pauseOnGone: true });

/** What an answer decides before the retry budget is counted: a 'retry' on the last attempt is dead. */
export type StatusOutcome = 'delivered' | 'paused' | 'dead' | 'retry';

export function statusOutcome(status: number, policy: StatusPolicy = DEFAULT_STATUS_POLICY): StatusOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === GONE_STATUS && policy.pauseOnGone) return 'paused';
  if (policy.permanentStatuses.includes(status)) return 'dead';
  return 'retry';
}

/** Whether the dispatcher retries this answer (with backoff) under the default policy. */
export function isRetryableStatus(status: number): boolean {
  return statusOutcome(status) === 'retry';
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

/**
 * Workflow steps (the engine's workflows, docs/workflows.md): a step, a
 * compensation or a wait's onTimeout call is delivered as an event of this
 * type, whose `event.data.new` is a `StepPayload` (plus `event_type`). Its id
 * is the step id, which is also the webhook-id and idempotency-key: pass it on
 * to whatever the step changes outside (a payment provider's refund), so a
 * step run again after a crash takes effect once. A step handler answers like
 * any handler; the JSON `result` in its 2xx body is the step's result.
 */
export const STEP_EVENT_TYPE = 'threefactor.workflow.step';

export interface StepPayload {
  workflow: string;
  version: number;
  instanceId: string;
  stepId: string;
  /** The step's name (the start's compensation: `$start`). */
  step: string;
  /** 'forward' (a step or a wait's onTimeout call) or 'compensate'. */
  phase: 'forward' | 'compensate';
  /** The start event's payload. */
  input: Row;
  /** The results of the completed steps, by step name. */
  results: Record<string, unknown>;
  /** Why the instance is compensating, else null. */
  failure: { step: string; reason: string; eventId?: string } | null;
}
