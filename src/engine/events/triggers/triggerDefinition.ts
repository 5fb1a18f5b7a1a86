/**
 * The shape of an event trigger, as declared in code (or loaded from a Hasura
 * metadata file). The dispatcher syncs these into the database at start.
 */
import { DEFAULT_PERMANENT_STATUSES, type StatusPolicy } from '../../../kit/contract.js';
import type { HasuraEventPayload } from '../payload.js';
import type { TriggerCondition } from './condition.js';

export interface RetryPolicy {
  /** Retries after the first attempt (Hasura's num_retries). */
  numRetries: number;
  /** Base delay; backoff grows exponentially from it, with jitter, up to maxIntervalSec. */
  intervalSec: number;
  maxIntervalSec: number;
  /** Per-attempt timeout (Hasura's timeout_sec). */
  timeoutSec: number;
}

/** One operation a table trigger listens to (Hasura's operation spec). */
export interface OperationSpec {
  /** For update: an UPDATE is delivered only if one of these changed ("*": any). Ignored for insert and delete. */
  columns: '*' | string[];
  /**
   * The columns the webhook body carries in data.old / data.new for this
   * operation (Hasura's payload); omitted or "*": the whole row. Routing and
   * ordering still see the whole row.
   */
  payload?: '*' | string[];
}

export type TriggerMatch =
  /** Domain events by type; a trailing `*` matches a prefix (`order.*`). */
  | { kind: 'event'; types: string[] }
  /** Table capture: row changes on a table, optionally only when listed columns change. */
  | {
      kind: 'table';
      schema: string;
      table: string;
      insert?: OperationSpec;
      update?: OperationSpec;
      delete?: OperationSpec;
      /** Hasura's enable_manual: rows may be sent to this trigger by hand (op MANUAL). */
      enableManual?: boolean;
    };

export type TriggerTarget =
  /** `url` may hold `{{ENV_VAR}}` placeholders, filled in at each attempt (delivery/urlTemplate.ts). */
  | { kind: 'webhook'; url: string }
  | { kind: 'webhookFromEnv'; env: string }
  | { kind: 'inProcess'; handler: string };

export interface TriggerDefinition {
  name: string;
  match: TriggerMatch;
  target: TriggerTarget;
  /** Extra request headers (values may come from env: { name, valueFromEnv }). */
  headers?: Array<{ name: string; value?: string; valueFromEnv?: string }>;
  retry?: Partial<RetryPolicy>;
  /**
   * Deliveries with the same key are delivered in commit order, one at a time.
   * 'aggregate' keys by the event's aggregate (e.g. one order); a string names
   * a payload field. Omitted: full parallelism.
   */
  orderingKey?: 'aggregate' | { payloadField: string };
  enabled?: boolean;
  /**
   * Statuses that dead-letter a delivery at once, without retrying. Default
   * for triggers declared in code: 400, 413, 422 (DEFAULT_PERMANENT_STATUSES);
   * triggers loaded from Hasura metadata get [] (Hasura's rule: every non-2xx
   * is retried) unless the metadata opts in.
   */
  permanentStatuses?: number[];
  /** 410 Gone pauses the trigger (Standard Webhooks). Default true in code, false from Hasura metadata. */
  pauseOnGone?: boolean;
  /** At most this many deliveries of this trigger running at once, across all dispatchers. Omitted: no cap. */
  concurrency?: number;
  /** At most this many deliveries of this trigger started per second, across all dispatchers. Omitted: no limit. */
  ratePerSecond?: number;
  /**
   * Only changes that satisfy it are routed to this trigger (a change that
   * does not gets no delivery at all): on `new` / `old` row fields for a
   * table trigger, on `payload` fields for an event trigger, in Hasura's
   * boolean-expression style (condition.ts, docs/events.md). Compiled into
   * SQL at sync. Omitted: every matching change.
   */
  condition?: TriggerCondition;
}

/**
 * What an in-process handler receives: the same body a webhook would. It
 * succeeds by resolving and fails by throwing; the `signal` aborts when the
 * attempt times out or the dispatcher drains. `delivery` is what a webhook's
 * x-threefactor-delivery and x-threefactor-event headers say, for the
 * write-back to pass back as its cause (the dispatcher always gives it; a
 * direct call may not, and its write-back then has no cause). What it resolves to, if not undefined, is
 * logged as the attempt's response body (JSON), as a webhook's answer is: a workflow step's result.
 */
export type InProcessHandler = (payload: HasuraEventPayload, signal: AbortSignal, delivery?: InProcessDelivery) => Promise<unknown>;

export interface InProcessDelivery {
  /** The delivery's id in threefactor.deliveries. */
  id: string;
  /** The id of the event delivered. */
  eventId: string;
}

/**
 * Defaults for triggers declared in code. Hasura metadata carries its own
 * (num_retries 0, interval 10 s, timeout 60 s), applied by the loader.
 */
export const DEFAULT_RETRY: RetryPolicy = { numRetries: 5, intervalSec: 5, maxIntervalSec: 3600, timeoutSec: 30 };

export function retryPolicy(def: TriggerDefinition): RetryPolicy {
  return { ...DEFAULT_RETRY, ...def.retry };
}

/**
 * What a response means for a trigger (dispatcher/delivery/outcome.ts applies
 * it). The rule and its default statuses are the wire contract's, so a
 * handler and the dispatcher cannot disagree about them.
 */
export type OutcomePolicy = StatusPolicy;

export { DEFAULT_PERMANENT_STATUSES };

export function outcomePolicy(def: TriggerDefinition): OutcomePolicy {
  return { permanentStatuses: def.permanentStatuses ?? DEFAULT_PERMANENT_STATUSES, pauseOnGone: def.pauseOnGone ?? true };
}

/** Trigger names travel in headers, settings and URLs: keep them plain. */
export const TRIGGER_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
