/**
 * Workflow handlers as event triggers: every handler of a declared workflow
 * version is synced as an `event_triggers` row named
 * `workflow.<workflow>.v<version>.<handler>`, with its target and retry, so a
 * step call is an ordinary delivery (retries,
 * backoff, dead letters, leases, signing, the attempts log, redeliver: all the
 * dispatcher's). Its match names the step event type, which routing never
 * routes (threefactor.trigger_matches refuses engine events): the runner
 * inserts each step's delivery itself, naming the trigger.
 *
 * The version is in the name so that a deploy declaring only version 2 leaves
 * version 1's triggers as version 1 last synced them (sync keeps undeclared
 * triggers): an instance pinned on 1 calls 1's targets to its end.
 */
import { STEP_EVENT_TYPE } from '../../kit/contract.js';
import type { TriggerDefinition } from '../events/triggers/triggerDefinition.js';
import type { WorkflowDefinition } from './definition.js';

/** Reserved for these triggers: routing.ts lets only them name the step event type. */
export const WORKFLOW_TRIGGER_PREFIX = 'workflow.';

/** A workflow handler's trigger (its name carries the reserved prefix). */
export function isWorkflowTrigger(name: string): boolean {
  return name.startsWith(WORKFLOW_TRIGGER_PREFIX);
}

export function workflowTriggerName(workflow: string, version: number, handler: string): string {
  return `${WORKFLOW_TRIGGER_PREFIX}${workflow}.v${version}.${handler}`;
}

/** The triggers of these (declared, current) definitions' handlers. */
export function workflowTriggers(definitions: readonly WorkflowDefinition[]): TriggerDefinition[] {
  return definitions.flatMap((d) =>
    Object.entries(d.handlers).map(([key, h]) => ({
      name: workflowTriggerName(d.name, d.version, key),
      match: { kind: 'event' as const, types: [STEP_EVENT_TYPE] },
      target: h.target,
      ...(h.retry ? { retry: h.retry } : {}),
    })),
  );
}
