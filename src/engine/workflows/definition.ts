/**
 * A workflow as data (the mediator topology): what an app declares, and the
 * engine stores, versions and runs. No code is replayed: a workflow is a list
 * of steps, each of which calls a handler, waits for an event or sleeps, and
 * may name a compensation. docs/workflows.md describes the semantics.
 */
import type { TriggerCondition } from '../events/triggers/condition.js';
import type { RetryPolicy, TriggerTarget } from '../events/triggers/triggerDefinition.js';

/** A handler a step (or a compensation) calls: reached like any trigger's target, over the same signed webhooks. */
export interface WorkflowHandler {
  target: TriggerTarget;
  retry?: Partial<RetryPolicy>;
}

/** Which events a start or a wait accepts: types (a trailing `*` is a prefix), and optionally a condition on `payload`. */
export interface WorkflowEventMatch {
  types: string[];
  condition?: TriggerCondition;
}

export type WorkflowStep =
  /** Calls `handler` (a key of `handlers`) once, with retries; fails for good when its delivery is dead-lettered or `timeoutSec` passes. */
  | { name: string; kind: 'call'; handler: string; timeoutSec?: number; compensate?: string }
  /**
   * Waits for an event of this instance's key that matches `for` (the step succeeds) or `failOn` (it fails for
   * good). After `timeoutSec`: with `onTimeout`, calls that handler once and goes on waiting (its write-back
   * decides the race through the app's own compare-and-set); without, the step fails for good.
   */
  | {
      name: string;
      kind: 'wait';
      for: WorkflowEventMatch;
      failOn?: WorkflowEventMatch;
      timeoutSec?: number;
      onTimeout?: string;
      compensate?: string;
    }
  /** Sleeps `seconds`, or until the instant in the start event's payload field `untilField` (ISO 8601). */
  | { name: string; kind: 'sleep'; seconds?: number; untilField?: string; compensate?: string };

export interface WorkflowDefinition {
  /** Plain, like a trigger name (TRIGGER_NAME). */
  name: string;
  /**
   * Bumped by the app whenever the definition changes. Instances pin the version they started with; a stored
   * version whose content differs from the declared one is refused at sync (change it, bump it).
   */
  version: number;
  /** The events that start an instance, in the event's own transaction. */
  start: WorkflowEventMatch & {
    /** The instance's key (what its waits correlate on): the start event's aggregate id, or a payload field. */
    key?: 'aggregate' | { payloadField: string };
    /** Compensates the start itself (e.g. refund the payment whose success started it); runs last. */
    compensate?: string;
  };
  steps: WorkflowStep[];
  /** The handlers steps, compensations and timeouts name, by key. */
  handlers: Record<string, WorkflowHandler>;
}
