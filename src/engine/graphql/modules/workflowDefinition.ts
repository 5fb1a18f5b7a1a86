/**
 * Admin: `workflowDefinitions`, every stored version of every workflow
 * (threefactor.workflow_definitions): which one is current, its steps and
 * handlers in brief, and how many instances still run on it. A handler's
 * target is shown as the trigger admin shows it (describeTarget: no
 * credentials, no query string), never the stored definition whole.
 */
import type { WorkflowStep } from '../../workflows/definition.js';
import { listWorkflowDefinitions, type WorkflowDefinitionRecord } from '../../workflows/admin/listDefinitions.js';
import { describeTarget } from '../../events/triggers/describeTarget.js';
import { workflowTriggerName } from '../../workflows/triggers.js';
import { builder } from '../builder.js';

const WorkflowStepDefinitionRef = builder.objectRef<WorkflowStep>('WorkflowStepDefinition').implement({
  description: 'One step of a definition.',
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.exposeString('kind', { description: 'call, wait or sleep.' }),
    handler: t.string({ nullable: true, description: 'A call’s handler (a key of the definition’s handlers).', resolve: (s) => (s.kind === 'call' ? s.handler : null) }),
    forTypes: t.stringList({ nullable: true, description: 'A wait’s success event types.', resolve: (s) => (s.kind === 'wait' ? s.for.types : null) }),
    failOnTypes: t.stringList({ nullable: true, description: 'A wait’s failure event types.', resolve: (s) => (s.kind === 'wait' ? (s.failOn?.types ?? []) : null) }),
    timeoutSec: t.float({ nullable: true, resolve: (s) => (s.kind === 'sleep' ? null : (s.timeoutSec ?? null)) }),
    onTimeout: t.string({ nullable: true, description: 'A wait’s handler called once when it times out.', resolve: (s) => (s.kind === 'wait' ? (s.onTimeout ?? null) : null) }),
    seconds: t.float({ nullable: true, description: 'A sleep’s length.', resolve: (s) => (s.kind === 'sleep' ? (s.seconds ?? null) : null) }),
    untilField: t.string({ nullable: true, description: 'A sleep’s end, from this start-payload field.', resolve: (s) => (s.kind === 'sleep' ? (s.untilField ?? null) : null) }),
    compensate: t.string({ nullable: true, description: 'The handler that undoes it if a later step fails for good.', resolve: (s) => s.compensate ?? null }),
  }),
});

interface HandlerView {
  key: string;
  trigger: string;
  target: string;
}

const WorkflowHandlerRef = builder.objectRef<HandlerView>('WorkflowHandler').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    trigger: t.exposeString('trigger', { description: 'The event trigger its deliveries go through (workflow.<name>.v<version>.<key>): see eventTrigger(name).' }),
    target: t.exposeString('target', { description: 'Where it delivers (URL without credentials or query, env variable name, or handler name).' }),
  }),
});

export const WorkflowDefinitionRef = builder.objectRef<WorkflowDefinitionRecord>('WorkflowDefinition').implement({
  description: 'One stored version of a workflow.',
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeInt('version'),
    current: t.exposeBoolean('current', { description: 'The version new instances start on (the app declares it).' }),
    digest: t.exposeString('digest'),
    startTypes: t.stringList({ description: 'The event types that start an instance.', resolve: (d) => d.definition.start.types }),
    steps: t.field({ type: [WorkflowStepDefinitionRef], resolve: (d) => d.definition.steps }),
    handlers: t.field({
      type: [WorkflowHandlerRef],
      resolve: (d) =>
        Object.entries(d.definition.handlers).map(([key, h]) => ({ key, trigger: workflowTriggerName(d.name, d.version, key), target: describeTarget(h.target) })),
    }),
    unfinished: t.exposeInt('unfinished', { description: 'Its instances not completed or compensated yet.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('workflowDefinitions', (t) =>
  t.field({
    type: [WorkflowDefinitionRef],
    description: 'Every stored workflow definition version, by name then newest first. Admin only.',
    authScopes: { role: 'admin' },
    args: { name: t.arg.string({ required: false }) },
    resolve: (_root, { name }, ctx) => listWorkflowDefinitions(ctx.database.sql, name),
  }),
);
