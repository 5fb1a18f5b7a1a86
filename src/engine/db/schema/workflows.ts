/**
 * Durable workflows (the mediator topology, docs/workflows.md): the stored
 * definitions (every version an instance may still pin), the instances, their
 * step history, the waits in progress and the signals that made an instance
 * ready.
 *
 * Instances start, and waits and step completions are signalled, in the
 * event's own transaction, by the statement-level trigger on `events`
 * (threefactor.workflow_events, drizzle/engine/…_workflows); the runner
 * (src/engine/workflows/runner.ts) claims ready or due instances and advances
 * them. The matching columns of workflow_definitions and workflow_waits are
 * derived from the definition at sync and at each wait, so SQL matches without
 * parsing JSON per event, as event_triggers' routing columns do.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { WorkflowDefinition } from '../../workflows/definition.js';
import type { JsonObject } from './events.js';
import { threefactor } from './threefactor.js';

export const WORKFLOW_STATUSES = ['running', 'waiting', 'sleeping', 'compensating', 'completed', 'compensated', 'failed'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];
/** Statuses an instance never leaves by itself (only retryWorkflow takes a `failed` one back). */
export const TERMINAL_WORKFLOW_STATUSES = ['completed', 'compensated', 'failed'] as const satisfies readonly WorkflowStatus[];

export const WORKFLOW_PHASES = ['forward', 'compensate'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];

/**
 * What one workflow_steps row executed: a step of the definition (call, wait,
 * sleep), a wait's onTimeout call ('timeout'), or a compensation ('compensate').
 */
export const WORKFLOW_STEP_KINDS = ['call', 'wait', 'sleep', 'timeout', 'compensate'] as const;
export type WorkflowStepKind = (typeof WORKFLOW_STEP_KINDS)[number];

export const WORKFLOW_STEP_STATUSES = ['running', 'completed', 'failed', 'timed_out'] as const;
export type WorkflowStepStatus = (typeof WORKFLOW_STEP_STATUSES)[number];

/** Why an instance became ready: an event a wait accepts ('for') or fails on ('failOn'), or a step call's delivery settled. */
export const WORKFLOW_SIGNAL_KINDS = ['for', 'failOn', 'delivery'] as const;
export type WorkflowSignalKind = (typeof WORKFLOW_SIGNAL_KINDS)[number];

/** Why an instance failed for good: the step, and the reason (`dead`, `timeout`, a failOn event's type). */
export interface WorkflowFailure {
  step: string;
  reason: string;
  eventId?: string;
}

const now = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

export const workflowDefinitions = threefactor.table(
  'workflow_definitions',
  {
    name: text('name').notNull(),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<WorkflowDefinition>().notNull(),
    /** sha256 of the definition's canonical JSON: a stored version whose digest differs is refused at sync. */
    digest: text('digest').notNull(),
    /** True only for the version the processes declare; older versions stay for the instances that pinned them. */
    current: boolean('current').notNull().default(false),
    /** Matching columns of `start`, derived at sync: exact types, prefixes (`order.*` as `order.`), a condition. */
    startTypes: text('start_types').array().notNull().default(sql`'{}'::text[]`),
    startPrefixes: text('start_prefixes').array().notNull().default(sql`'{}'::text[]`),
    startHasCondition: boolean('start_has_condition').notNull().default(false),
    /** The start payload's field that keys an instance; null: the start event's aggregate id. */
    keyField: text('key_field'),
    createdAt: now('created_at'),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] }), index('workflow_definitions_current_idx').on(t.name).where(sql`${t.current}`)],
);

export const workflowInstances = threefactor.table(
  'workflow_instances',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workflow: text('workflow').notNull(),
    /** The definition version this instance pinned at its start; it runs that version to the end. */
    version: integer('version').notNull(),
    /** What its waits correlate on: the start event's aggregate id, or a payload field of it. */
    key: text('key').notNull(),
    status: text('status').$type<WorkflowStatus>().notNull(),
    /** The step being run (forward), or being compensated (compensate; -1: the start's compensation). */
    stepIndex: integer('step_index').notNull().default(0),
    phase: text('phase').$type<WorkflowPhase>().notNull().default('forward'),
    startedByEvent: uuid('started_by_event').notNull(),
    /** The start event's payload. */
    input: jsonb('input').$type<JsonObject>().notNull(),
    /** { stepName: result } of the completed forward steps. */
    results: jsonb('results').$type<JsonObject>().notNull().default(sql`'{}'::jsonb`),
    failure: jsonb('failure').$type<WorkflowFailure | null>(),
    /** The workflow_steps row in progress (a call's id is its event's and delivery's idempotency key); null between steps. */
    currentStep: uuid('current_step'),
    /** The event that last moved this instance (start, signal, a step's call): the next step's call is caused by it. */
    lastEvent: uuid('last_event'),
    /** The running wait's onTimeout call was started (it is started once; the wait then has no timer). */
    timeoutFired: boolean('timeout_fired').notNull().default(false),
    /** Due then: a sleep's end, a call's or a wait's timeout. */
    wakeAt: timestamp('wake_at', { withTimezone: true }),
    /** Something happened to it (start, signal): the runner should look. */
    ready: boolean('ready').notNull().default(false),
    createdAt: now('created_at'),
    updatedAt: now('updated_at'),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    // What the runner's claim scans: the ready ones, and the timers of unfinished ones.
    index('workflow_instances_ready_idx').on(t.id).where(sql`${t.ready}`),
    index('workflow_instances_wake_idx').on(t.wakeAt).where(sql`${t.finishedAt} IS NULL AND ${t.wakeAt} IS NOT NULL`),
    // One instance of a workflow per start event, whatever happens to the event's statement.
    uniqueIndex('workflow_instances_start_idx').on(t.startedByEvent, t.workflow),
    index('workflow_instances_workflow_idx').on(t.workflow, t.createdAt),
    index('workflow_instances_status_idx').on(t.status, t.updatedAt),
  ],
);

export const workflowSteps = threefactor.table(
  'workflow_steps',
  {
    /** The step id: for a call, also its event's id, its delivery's event id, the webhook-id and the idempotency key. */
    id: uuid('id').primaryKey().defaultRandom(),
    instanceId: uuid('instance_id')
      .notNull()
      .references(() => workflowInstances.id, { onDelete: 'cascade' }),
    /** The definition's step index; -1 for the start's compensation. */
    stepIndex: integer('step_index').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<WorkflowStepKind>().notNull(),
    phase: text('phase').$type<WorkflowPhase>().notNull(),
    /** The handler key a call runs (null for wait and sleep). */
    handler: text('handler'),
    status: text('status').$type<WorkflowStepStatus>().notNull().default('running'),
    /** 1 for the first execution of this step of this instance, +1 per retryWorkflow. */
    attempt: integer('attempt').notNull().default(1),
    deliveryId: uuid('delivery_id'),
    result: jsonb('result'),
    error: text('error'),
    startedAt: now('started_at'),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('workflow_steps_instance_idx').on(t.instanceId, t.startedAt)],
);

/** The columns of a registered wait, shared by the current waits and the ones registered ahead. */
const waitColumns = () => ({
  instanceId: uuid('instance_id')
    .primaryKey()
    .references(() => workflowInstances.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  stepIndex: integer('step_index').notNull(),
  /** The wait's workflow_steps row: its signals name it, so a signal matched by an earlier wait is never taken for this one's. */
  stepId: uuid('step_id').notNull(),
  /** threefactor.workflow_condition's match keys of `for` and `failOn` (null: no condition). */
  forCondition: text('for_condition'),
  failCondition: text('fail_condition'),
  forTypes: text('for_types').array().notNull().default(sql`'{}'::text[]`),
  forPrefixes: text('for_prefixes').array().notNull().default(sql`'{}'::text[]`),
  failTypes: text('fail_types').array().notNull().default(sql`'{}'::text[]`),
  failPrefixes: text('fail_prefixes').array().notNull().default(sql`'{}'::text[]`),
  createdAt: now('created_at'),
});

export const workflowWaits = threefactor.table('workflow_waits', waitColumns(), (t) => [index('workflow_waits_key_idx').on(t.key)]);

/**
 * The next wait of instances not in a wait yet (registered by the start, and by each call or sleep that begins),
 * with the step id that wait's history row will have: an awaited event that commits before its wait begins (an
 * answer right after the start, a call's own write-back) is signalled for it all the same. Same columns as
 * workflow_waits; the runner moves the row there when the wait begins.
 */
export const workflowWaitsAhead = threefactor.table('workflow_waits_ahead', waitColumns(), (t) => [index('workflow_waits_ahead_key_idx').on(t.key)]);

export const workflowSignals = threefactor.table(
  'workflow_signals',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    instanceId: uuid('instance_id')
      .notNull()
      .references(() => workflowInstances.id, { onDelete: 'cascade' }),
    /** The event a wait matched; for 'delivery', the step call's event (= the step id). */
    eventId: uuid('event_id').notNull(),
    /** The workflow_steps row it is for: the wait that matched, or the call whose delivery settled. */
    stepId: uuid('step_id').notNull(),
    kind: text('kind').$type<WorkflowSignalKind>().notNull(),
    createdAt: now('created_at'),
  },
  (t) => [index('workflow_signals_instance_idx').on(t.instanceId, t.id)],
);

export type WorkflowDefinitionRow = typeof workflowDefinitions.$inferSelect;
export type WorkflowInstanceRow = typeof workflowInstances.$inferSelect;
export type WorkflowStepRow = typeof workflowSteps.$inferSelect;
export type WorkflowWaitRow = typeof workflowWaits.$inferSelect;
export type WorkflowSignalRow = typeof workflowSignals.$inferSelect;
