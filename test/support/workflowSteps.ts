/**
 * A workflow step's delivery as the dispatcher sends it, for step-handler
 * tests before (and besides) a runner: the engine's
 * `threefactor.workflow.step` event whose id is the step id, and whose
 * payload names the instance, the step, its phase and the start event's
 * payload as `input`.
 */
import { randomUUID } from 'node:crypto';
import { workflowTriggerName } from '../../src/engine/workflows/triggers.js';
import type { HasuraEventPayload } from '../../src/kit/contract.js';
import { domainEvent } from './webhooks.js';

export interface StepDeliveryOptions {
  workflow?: string;
  step: string;
  phase?: 'forward' | 'compensate';
  input: Record<string, unknown>;
  /** The step id (also the event id, the webhook-id, the idempotency key); new by default. */
  stepId?: string;
  instanceId?: string;
  trigger?: string;
  attempt?: number;
}

export function stepDelivery(opts: StepDeliveryOptions): HasuraEventPayload {
  const stepId = opts.stepId ?? randomUUID();
  const workflow = opts.workflow ?? 'order-fulfilment';
  return domainEvent(
    'threefactor.workflow.step',
    {
      workflow,
      version: 1,
      instanceId: opts.instanceId ?? randomUUID(),
      stepId,
      step: opts.step,
      phase: opts.phase ?? 'forward',
      input: opts.input,
      results: {},
      failure: null,
    },
    { id: stepId, trigger: opts.trigger ?? workflowTriggerName(workflow, 1, opts.step), aggregateType: 'threefactor.workflow', attempt: opts.attempt },
  );
}
