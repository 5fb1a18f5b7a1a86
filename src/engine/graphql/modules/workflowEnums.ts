/** The enums the workflow types share: an instance's status and phase. */
import { WORKFLOW_PHASES, WORKFLOW_STATUSES } from '../../workflows/admin/instanceRecord.js';
import { builder } from '../builder.js';

export const WorkflowStatusEnum = builder.enumType('WorkflowStatus', {
  description:
    'running (a call in flight, or about to start), waiting (for an event), sleeping, compensating, and the ends: completed, compensated, failed (stuck at its failed step until retryWorkflow).',
  values: WORKFLOW_STATUSES,
});

export const WorkflowPhaseEnum = builder.enumType('WorkflowPhase', {
  description: 'forward (running its steps), compensate (undoing completed steps in reverse, after one failed for good).',
  values: WORKFLOW_PHASES,
});
