/**
 * Admin: workflow instances (the mediator topology's processes). The
 * `workflowInstances` connection (newest first, filtered by workflow,
 * status and key) and `workflowInstance(id)`, each instance with its
 * current step, status, phase, timer, failure and history. Reads are in
 * workflows/admin/ (one statement each); the history comes with the
 * instance (instanceView.ts). The live subscription is workflowSubscription.ts.
 */
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { WORKFLOW_STATUSES, type WorkflowFailure, type WorkflowWaitRecord } from '../../workflows/admin/instanceRecord.js';
import { withHistory, type WorkflowInstanceView } from '../../workflows/admin/instanceView.js';
import { pageWorkflowInstances } from '../../workflows/admin/pageInstances.js';
import { readWorkflowInstances } from '../../workflows/admin/readInstances.js';
import type { Queryable } from '../../events/sql/queryable.js';
import { builder } from '../builder.js';
import { PAGE } from './adminEvents.js';
import { decodeCursor, timeCursor } from './timeKeyset.js';
import { uuid } from './validators.js';
import { WorkflowPhaseEnum, WorkflowStatusEnum } from './workflowEnums.js';
import { WorkflowStepKindEnum, WorkflowStepRunRef } from './workflowStep.js';

const WorkflowFailureRef = builder.objectRef<WorkflowFailure>('WorkflowFailure').implement({
  description: 'Why an instance failed for good (and is compensating, compensated or failed).',
  fields: (t) => ({
    step: t.exposeString('step', { description: 'The step that failed.' }),
    reason: t.exposeString('reason', { description: 'dead (its delivery was dead-lettered), timeout, or the type of the failOn event.' }),
    eventId: t.exposeID('eventId', { nullable: true, description: 'The failOn event, when one failed it.' }),
  }),
});

const WorkflowWaitRef = builder.objectRef<WorkflowWaitRecord>('WorkflowWait').implement({
  description: 'What a waiting instance waits for (events of its key; a trailing * is a prefix).',
  fields: (t) => ({
    key: t.exposeString('key'),
    forTypes: t.exposeStringList('forTypes', { description: 'An event of one of these ends the wait: the step succeeds.' }),
    failTypes: t.exposeStringList('failTypes', { description: 'An event of one of these fails the step for good.' }),
  }),
});

export const WorkflowInstanceRef = builder.objectRef<WorkflowInstanceView>('WorkflowInstance').implement({
  description: 'One run of a workflow definition: where it is, what it did, what it waits for.',
  fields: (t) => ({
    id: t.exposeID('id'),
    workflow: t.exposeString('workflow'),
    version: t.exposeInt('version', { description: 'The definition version it pinned when it started (it runs that one to the end).' }),
    key: t.exposeString('key', { description: 'What its waits correlate on (the start event’s aggregate id, or a payload field).' }),
    status: t.expose('status', { type: WorkflowStatusEnum }),
    phase: t.expose('phase', { type: WorkflowPhaseEnum }),
    stepIndex: t.exposeInt('stepIndex', {
      description: 'The step being run (forward) or compensated (compensate) in the definition, 0-based; -1: the start’s compensation.',
    }),
    currentStepId: t.exposeID('currentStepId', { nullable: true, description: 'Its history row in progress (null between steps, and once finished).' }),
    currentStep: t.exposeString('currentStep', { nullable: true, description: 'The current step’s name (null once completed or compensated).' }),
    currentStepKind: t.expose('currentStepKind', { type: WorkflowStepKindEnum, nullable: true }),
    startedByEvent: t.exposeID('startedByEvent', { nullable: true, description: 'The event that started it (the root of its causal tree).' }),
    input: t.expose('input', { type: 'JSONObject', description: 'The start event’s payload.' }),
    results: t.expose('results', { type: 'JSONObject', description: 'Each completed step’s result, by step name.' }),
    failure: t.expose('failure', { type: WorkflowFailureRef, nullable: true }),
    wakeAt: t.expose('wakeAt', { type: 'DateTime', nullable: true, description: 'Its timer: a sleep’s end, or a step’s timeout (null: none).' }),
    waiting: t.expose('wait', { type: WorkflowWaitRef, nullable: true, description: 'While in a wait step: what it waits for.' }),
    ready: t.exposeBoolean('ready', { description: 'Something (an event, a delivery’s outcome) made it due: a runner will advance it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    history: t.expose('history', { type: [WorkflowStepRunRef], description: 'Every step execution, oldest first.' }),
  }),
});

export const WorkflowInstanceConnection = builder.connectionObject(
  { type: WorkflowInstanceRef, name: 'WorkflowInstanceConnection' },
  { name: 'WorkflowInstanceEdge' },
);

const WorkflowInstanceFilterInput = builder.inputType('WorkflowInstanceFilter', {
  fields: (t) => ({
    workflow: t.string({ required: false, description: 'Only this workflow’s instances (any version).' }),
    status: t.field({ type: WorkflowStatusEnum, required: false }),
    key: t.string({ required: false, description: 'Only instances of this key (e.g. an order id).' }),
  }),
});

/** One instance with its history, or null. */
export async function findWorkflowInstance(sql: Queryable, id: string): Promise<WorkflowInstanceView | null> {
  const instance = (await readWorkflowInstances(sql, [id])).get(id);
  return instance ? ((await withHistory(sql, [instance]))[0] ?? null) : null;
}

builder.queryFields((t) => ({
  workflowInstances: t.connection(
    {
      type: WorkflowInstanceRef,
      description: `Workflow instances, newest first, with their history. Admin only. Statuses: ${WORKFLOW_STATUSES.join(', ')}.`,
      authScopes: { role: 'admin' },
      args: { filter: t.arg({ type: WorkflowInstanceFilterInput, required: false }) },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection(
          { args, toCursor: (i: WorkflowInstanceView) => timeCursor({ cursorAt: i.cursorAt, id: i.id }), ...PAGE },
          async (page: ResolveCursorConnectionArgs) => {
            const rows = await pageWorkflowInstances(ctx.database.sql, args.filter, {
              after: page.after ? decodeCursor(page.after, 'after') : undefined,
              before: page.before ? decodeCursor(page.before, 'before') : undefined,
              limit: page.limit,
              inverted: page.inverted,
            });
            return withHistory(ctx.database.sql, rows);
          },
        ),
    },
    WorkflowInstanceConnection,
  ),
  workflowInstance: t.field({
    type: WorkflowInstanceRef,
    nullable: true,
    description: 'One workflow instance by id, with its history (null when there is none). Admin only.',
    authScopes: { role: 'admin' },
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: (_root, { id }, ctx) => findWorkflowInstance(ctx.database.sql, id),
  }),
}));
