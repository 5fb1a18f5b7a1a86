/**
 * Admin: `retryWorkflow(id)`, the way out of `failed`: the instance is made
 * ready again at the step it failed at, which runs anew (a new history row,
 * a new step id, so a new idempotency key: the failed call's effect, if any,
 * was not applied). Any other status is refused as the caller's error.
 */
import { retryWorkflow } from '../../workflows/admin/retryWorkflow.js';
import { builder } from '../builder.js';
import { clientError, notFound } from '../errors.js';
import { logAdminAction } from './adminAudit.js';
import { uuid } from './validators.js';
import { findWorkflowInstance, WorkflowInstanceRef } from './workflowInstance.js';

builder.mutationField('retryWorkflow', (t) =>
  t.field({
    type: WorkflowInstanceRef,
    description:
      'Run a failed workflow instance again from its failed step. NOT_FOUND for an unknown instance; ILLEGAL_TRANSITION unless it is failed. Admin only.',
    authScopes: { role: 'admin' },
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { id }, ctx) => {
      const outcome = await retryWorkflow(ctx.database, id);
      if (outcome.kind === 'missing') throw notFound('Workflow instance', id);
      if (outcome.kind === 'refused') {
        throw clientError('ILLEGAL_TRANSITION', `Workflow instance ${id} is ${outcome.status}: only a failed instance can be retried`, { id, status: outcome.status });
      }
      logAdminAction(ctx, 'retryWorkflow', { instance: id, workflow: outcome.workflow, step: outcome.stepIndex });
      const instance = await findWorkflowInstance(ctx.database.sql, id);
      if (!instance) throw notFound('Workflow instance', id);
      return instance;
    },
  }),
);
