/**
 * `WorkflowStepRun`: one execution of a workflow step, a row of a
 * workflow instance's history (threefactor.workflow_steps; a retry from a
 * failed step is a new row). Admin only, as its instance.
 */
import { WORKFLOW_STEP_KINDS, WORKFLOW_STEP_STATUSES } from '../../db/schema/workflows.js';
import type { WorkflowStepRecord } from '../../workflows/admin/readSteps.js';
import { builder } from '../builder.js';
import { WorkflowPhaseEnum } from './workflowEnums.js';

export const WorkflowStepStatusEnum = builder.enumType('WorkflowStepStatus', {
  description: 'running, completed, failed (for good: its delivery is dead, or its wait failed), timed_out (its timeoutSec passed).',
  values: WORKFLOW_STEP_STATUSES,
});

export const WorkflowStepKindEnum = builder.enumType('WorkflowStepKind', {
  description: 'A step of the definition (call, wait, sleep), a wait’s onTimeout call (timeout), or a compensation (compensate).',
  values: WORKFLOW_STEP_KINDS,
});

export const WorkflowStepRunRef = builder.objectRef<WorkflowStepRecord>('WorkflowStepRun').implement({
  description: 'One execution of a step of a workflow instance (its history row).',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'The step id: the id of its threefactor.workflow.step event, and its delivery’s webhook-id (the idempotency key the handler passes on).',
    }),
    stepIndex: t.exposeInt('stepIndex', { description: 'The step’s position in the definition (0-based; -1: the start’s compensation).' }),
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: WorkflowStepKindEnum }),
    phase: t.expose('phase', { type: WorkflowPhaseEnum }),
    handler: t.exposeString('handler', { nullable: true, description: 'The handler key a call runs (its trigger: workflow.<workflow>.v<version>.<handler>).' }),
    status: t.expose('status', { type: WorkflowStepStatusEnum }),
    attempt: t.exposeInt('attempt', { description: 'Which execution of this step it is (1 unless the workflow was retried from it).' }),
    deliveryId: t.exposeID('deliveryId', { nullable: true, description: 'The delivery that calls its handler (a call step); see delivery(id) for its attempts.' }),
    deliveryStatus: t.exposeString('deliveryStatus', { nullable: true, description: 'That delivery’s status: pending, running, delivered or dead.' }),
    deliveryAttempts: t.exposeInt('deliveryAttempts', { nullable: true, description: 'Attempts that delivery made so far.' }),
    result: t.expose('result', { type: 'JSON', nullable: true, description: 'What the step produced (a call: its handler’s response body; a wait: the event that ended it).' }),
    error: t.exposeString('error', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});
