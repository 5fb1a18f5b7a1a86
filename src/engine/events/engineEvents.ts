/**
 * Engine events: what the engine itself appends to the event log, so that
 * the realtime hub (and the causal trees it feeds, realtime/causalTrees.ts)
 * sees what becomes of deliveries. Attempts, dead letters and pauses would
 * otherwise change only delivery rows, which wake no hub.
 *
 * Their types start with ENGINE_EVENT_PREFIX, which the engine reserves:
 * routing never matches them (threefactor.trigger_matches,
 * drizzle/engine/…_engine_events), a trigger declaring that prefix is refused
 * (triggers/routing.ts), they wake no dispatcher (routing creates no delivery
 * for them, events/channels.ts), and only admins see them in the `events`
 * stream. Payloads carry ids and outcomes, never a handler's response body or
 * error text: the tree reads those from the tables, per viewer.
 *
 * Large lists are capped (ENGINE_EVENT_MAX_ITEMS): past it a payload says
 * `truncated: true`, and a reader that needs every id (the tree registry)
 * must treat the event as touching everything it watches.
 */
import { STEP_EVENT_TYPE } from '../../kit/contract.js';

export const ENGINE_EVENT_PREFIX = 'threefactor.';

export const isEngineEventType = (type: string): boolean => type.startsWith(ENGINE_EVENT_PREFIX);

/** Every engine event type, named once (the SQL that writes them takes them as parameters). */
export const ENGINE_EVENTS = {
  /** One per batch of delivery outcomes the completer wrote (aggregate: the dispatcher). */
  deliveriesProgressed: 'threefactor.deliveries.progressed',
  /** A trigger was paused (by an operator, or by its endpoint's 410) or resumed (aggregate: the trigger). */
  triggerPaused: 'threefactor.trigger.paused',
  triggerResumed: 'threefactor.trigger.resumed',
  /** Deliveries made due again by an operator (aggregate: the trigger, or `*` for several). */
  deliveriesRedelivered: 'threefactor.deliveries.redelivered',
  /** Deliveries created for events already in the log (aggregate: the trigger). */
  deliveriesReplayed: 'threefactor.deliveries.replayed',
  /**
   * A workflow step's call (aggregate: the workflow instance): its id is the step id, and the runner inserts the
   * delivery to the handler's trigger itself (routing never sees engine events). The type is the kit's, since a
   * step handler accepts it (src/kit/contract.ts).
   */
  workflowStep: STEP_EVENT_TYPE,
  /** A workflow instance's transitions into these statuses (aggregate: the instance), for the hub. */
  workflowStarted: 'threefactor.workflow.started',
  /** Into a wait that no event already ended, or a sleep not already over: a live subscription sees it at once. */
  workflowWaiting: 'threefactor.workflow.waiting',
  workflowSleeping: 'threefactor.workflow.sleeping',
  workflowCompleted: 'threefactor.workflow.completed',
  workflowCompensated: 'threefactor.workflow.compensated',
  workflowFailed: 'threefactor.workflow.failed',
} as const;

export const ENGINE_AGGREGATES = {
  dispatcher: 'threefactor.dispatcher',
  trigger: 'threefactor.trigger',
  workflow: 'threefactor.workflow',
} as const;

/** At most this many items in one engine event's list; past it the list is cut and `truncated` set. */
export const ENGINE_EVENT_MAX_ITEMS = 1_000;

/** What became of one attempt (or release) whose outcome the completer applied. */
export type ProgressOutcome = 'delivered' | 'retry' | 'dead' | 'paused' | 'released';

/** One applied outcome, as `threefactor.deliveries.progressed` lists it. */
export interface ProgressItem {
  deliveryId: string;
  eventId: string;
  trigger: string;
  /** The attempt's number (1-based); for a release, the attempts counted so far. */
  attempt: number;
  outcome: ProgressOutcome;
  httpStatus: number | null;
  durationMs: number | null;
}

export interface DeliveriesProgressedPayload {
  dispatcher: string;
  outcomes: ProgressItem[];
}

export interface TriggerPausePayload {
  trigger: string;
  /** Why it was paused; null on a resume. */
  reason: string | null;
}

/** A delivery an operator's redeliver or replay made due. */
export interface DeliveryRef {
  deliveryId: string;
  eventId: string;
  trigger: string;
}

export interface DeliveriesChangedPayload {
  deliveries: DeliveryRef[];
  /** How many there were; more than listed when `truncated`. */
  count: number;
  truncated: boolean;
}
