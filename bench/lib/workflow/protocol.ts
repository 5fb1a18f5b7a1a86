/**
 * The `workflow` scenario's workload and the messages between the harness
 * and its dispatcher child (dispatcherChild.ts): a 5-step workflow of no-op
 * in-process step handlers, and the same five hops as a broker chain of
 * triggers whose no-op handlers each emit the next hop's event.
 */
import type { TriggerDefinition } from '../../../src/engine/events/triggers/triggerDefinition.js';
import type { WorkflowDefinition } from '../../../src/engine/workflows/definition.js';

export type Side = 'workflow' | 'chain';

export const HOPS = 5;

/** The workflow side: the start event's type, and the definition (steps s1…s5, each calling its no-op handler). */
export const WORKFLOW_START = 'wfbench.started';
export const STEP_HANDLER = 'wfbenchStep';
export const WORKFLOW_NAME = 'wfbench';

const RETRY = { numRetries: 3, intervalSec: 1, maxIntervalSec: 5, timeoutSec: 10 };

export const benchWorkflow: WorkflowDefinition = {
  name: WORKFLOW_NAME,
  version: 1,
  start: { types: [WORKFLOW_START] },
  steps: Array.from({ length: HOPS }, (_, i) => ({ name: `s${i + 1}`, kind: 'call' as const, handler: `h${i + 1}` })),
  handlers: Object.fromEntries(Array.from({ length: HOPS }, (_, i) => [`h${i + 1}`, { target: { kind: 'inProcess' as const, handler: STEP_HANDLER }, retry: RETRY }])),
};

/** The chain side: hop i's event type; hop 1's is what the harness writes, as the workflow side writes its start event. */
export const hopType = (hop: number): string => `wfbench.hop${hop}`;
export const HOP_HANDLER = 'wfbenchHop';

export const chainTriggers: TriggerDefinition[] = Array.from({ length: HOPS }, (_, i) => ({
  name: `wfbench-hop-${i + 1}`,
  match: { kind: 'event', types: [hopType(i + 1)] },
  target: { kind: 'inProcess', handler: HOP_HANDLER },
  retry: RETRY,
}));
export const LAST_HOP_TRIGGER = `wfbench-hop-${HOPS}`;

/** Every event carries the instance number `n`; a hop's event also its hop. */
export interface HopPayload {
  n: number;
  hop?: number;
}

export type ChildIn =
  /** Start the dispatcher (its workflow runner included) for one side; `done` is sent for instances 1…doneUpTo. */
  | { type: 'start'; side: Side; doneUpTo: number }
  /** Send the hop starts recorded since the last collect, then forget them. */
  | { type: 'collect' }
  | { type: 'stop' };

export type ChildOut =
  | { type: 'ready' }
  | { type: 'started' }
  /** The last hop of instance `n` started (the harness waits for it before the next instance, in the latency part). */
  | { type: 'done'; n: number }
  /** Hop starts: flat triples (n, hop, process.hrtime in ns as a float: CLOCK_MONOTONIC, the harness's clock too). */
  | { type: 'collected'; starts: Float64Array }
  | { type: 'stopped' };
