/**
 * Workflow test kit: in-process step handlers that record every call (by
 * step id, so "executed once" is countable) and answer as a test says, and
 * readers of the instance and its history.
 */
import type { StepPayload } from '../../src/kit/contract.js';
import type { InProcessHandler } from '../../src/engine/events/triggers/triggerDefinition.js';
import type { TestDatabase } from '../support/db.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';

export interface StepCall {
  handler: string;
  stepId: string;
  instanceId: string;
  key: string;
  step: string;
  phase: StepPayload['phase'];
  results: Record<string, unknown>;
  deliveryEventId: string | undefined;
}

/** What a handler does for a call: resolve to a result, or throw (a `status` 422 error is dead at once). */
export type StepBehaviour = (call: StepCall) => unknown;

export class StepRecorder {
  readonly calls: StepCall[] = [];
  private behaviours = new Map<string, StepBehaviour>();

  /** In-process handlers named `names`, each answering `{ ok, outcome, result }` as the kit's would. */
  handlers(names: readonly string[]): Record<string, InProcessHandler> {
    return Object.fromEntries(
      names.map((name) => [
        name,
        async (payload, _signal, delivery) => {
          const p = payload.event.data.new as unknown as StepPayload;
          const call: StepCall = {
            handler: name,
            stepId: p.stepId,
            instanceId: p.instanceId,
            key: String((p.input as { key?: unknown }).key ?? ''),
            step: p.step,
            phase: p.phase,
            results: p.results,
            deliveryEventId: delivery?.eventId,
          };
          this.calls.push(call);
          const result = await (this.behaviours.get(name) ?? (() => ({ by: name })))(call);
          return { ok: true, outcome: 'step-done', result };
        },
      ]),
    ) as Record<string, InProcessHandler>;
  }

  on(name: string, behaviour: StepBehaviour): void {
    this.behaviours.set(name, behaviour);
  }

  forKey(key: string): StepCall[] {
    return this.calls.filter((c) => c.key === key);
  }

  /** Calls per step id: every value should be 1. */
  countsByStep(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.calls) m.set(c.stepId, (m.get(c.stepId) ?? 0) + 1);
    return m;
  }
}

export const dead = (why = 'refused') => Object.assign(new Error(why), { status: 422 });

export interface InstanceRow {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: string;
  step_index: number;
  phase: string;
  results: Record<string, unknown>;
  failure: { step: string; reason: string; eventId?: string } | null;
  started_by_event: string;
  finished_at: Date | null;
}

export async function instancesByKey(db: TestDatabase, key: string): Promise<InstanceRow[]> {
  return db.sql<InstanceRow[]>`select * from threefactor.workflow_instances where key = ${key} order by created_at`;
}

export async function history(db: TestDatabase, instanceId: string) {
  return db.sql<{ id: string; name: string; kind: string; phase: string; status: string; attempt: number; step_index: number; result: unknown; delivery_id: string | null }[]>`
    select id, name, kind, phase, status, attempt, step_index, result, delivery_id from threefactor.workflow_steps where instance_id = ${instanceId} order by started_at, id`;
}

/**
 * A workflow of two calls, `first` then `second`, both to the in-process handler `step`, with no retry (a failed
 * call is dead at once) and a call timeout of `timeoutSec`.
 */
export function twoCallWorkflow(name: string, startType: string, timeoutSec = 5): WorkflowDefinition {
  return {
    name,
    version: 1,
    start: { types: [startType] },
    steps: [
      { name: 'first', kind: 'call', handler: 'step' },
      { name: 'second', kind: 'call', handler: 'step' },
    ],
    handlers: { step: { target: { kind: 'inProcess', handler: 'step' }, retry: { numRetries: 0, timeoutSec } } },
  };
}
