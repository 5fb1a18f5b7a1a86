/**
 * Admin: the event triggers with their definition in brief, their runtime
 * state (enabled, paused and why) and their queues (pending, running, dead), plus
 * pause and resume. Counts come from one grouped query for all triggers.
 * Secrets never show: a webhook URL loses its credentials and query string,
 * headers show their names only, env-sourced values their variable's name.
 */
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { eventTriggers, type EventTriggerRow } from '../../db/schema/delivery.js';
import { pauseTrigger, resumeTrigger } from '../../events/admin/pause.js';
import { countDeliveries } from '../../events/sql/countDeliveries.js';
import { describeTarget } from '../../events/triggers/describeTarget.js';
import { retryPolicy, type RetryPolicy } from '../../events/triggers/triggerDefinition.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { notFound } from '../errors.js';
import { logAdminAction } from './adminAudit.js';

export interface TriggerView extends EventTriggerRow {
  pending: number;
  running: number;
  dead: number;
}

export async function loadTriggerViews(database: Pick<Database, 'db' | 'sql'>, name?: string): Promise<TriggerView[]> {
  const [rows, counts] = await Promise.all([
    database.db
      .select()
      .from(eventTriggers)
      .where(name === undefined ? undefined : eq(eventTriggers.name, name))
      .orderBy(asc(eventTriggers.name)),
    countDeliveries(database.sql),
  ]);
  const byName = new Map(counts.map((c) => [c.trigger, c]));
  return rows.map((r) => ({ ...r, pending: byName.get(r.name)?.pending ?? 0, running: byName.get(r.name)?.running ?? 0, dead: byName.get(r.name)?.dead ?? 0 }));
}

/** The trigger, or NOT_FOUND. */
export async function requireTrigger(ctx: Context, name: string): Promise<TriggerView> {
  const [trigger] = await loadTriggerViews(ctx.database, name);
  if (!trigger) throw notFound('Event trigger', name);
  return trigger;
}

const TargetKindEnum = builder.enumType('TriggerTargetKind', { values: ['webhook', 'webhookFromEnv', 'inProcess'] as const });
const TriggerKindEnum = builder.enumType('TriggerKind', {
  description: 'event: domain events by type; table: row changes captured from a table.',
  values: ['event', 'table'] as const,
});

const RetryPolicyRef = builder.objectRef<RetryPolicy>('RetryPolicy').implement({
  fields: (t) => ({
    numRetries: t.exposeInt('numRetries', { description: 'Retries after the first attempt.' }),
    intervalSec: t.exposeFloat('intervalSec', { description: 'Base backoff; grows exponentially with jitter.' }),
    maxIntervalSec: t.exposeFloat('maxIntervalSec'),
    timeoutSec: t.exposeFloat('timeoutSec', { description: 'Per attempt.' }),
  }),
});

export const EventTriggerRef = builder.objectRef<TriggerView>('EventTrigger').implement({
  description: 'An event trigger: what it matches, where it delivers, and its queue.',
  fields: (t) => ({
    name: t.exposeString('name'),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled: no deliveries are created (declared in the definition).' }),
    paused: t.exposeBoolean('paused', { description: 'Paused: deliveries are created and queue, but are not sent until resumed.' }),
    pausedReason: t.exposeString('pausedReason', {
      nullable: true,
      description: 'Why it is paused: manual (pauseTrigger), or gone: HTTP 410 from its target (the first reason is kept). null when not paused.',
    }),
    pausedAt: t.expose('pausedAt', { type: 'DateTime', nullable: true, description: 'Since when it is paused; null when not paused.' }),
    kind: t.field({ type: TriggerKindEnum, resolve: (r) => (r.matchKind === 'table' ? 'table' : 'event') }),
    eventTypes: t.stringList({
      description: 'Event types matched (kind event); a trailing * matches a prefix.',
      resolve: (r) => (r.definition.match.kind === 'event' ? r.definition.match.types : []),
    }),
    table: t.exposeString('captureTable', { nullable: true, description: 'schema.table captured (kind table).' }),
    operations: t.exposeStringList('captureOps', { description: 'INSERT, UPDATE, DELETE listened to (kind table).' }),
    updateColumns: t.exposeStringList('updateColumns', { nullable: true, description: 'An UPDATE is delivered only if one of these changed; null: any column.' }),
    manualEnabled: t.boolean({
      description: 'Rows may be sent to it by hand (invokeTrigger).',
      resolve: (r) => r.definition.match.kind === 'table' && r.definition.match.enableManual === true,
    }),
    targetKind: t.field({ type: TargetKindEnum, resolve: (r) => r.definition.target.kind }),
    target: t.string({ description: 'Where it delivers (URL without credentials or query, env variable name, or handler name).', resolve: (r) => describeTarget(r.definition.target) }),
    headerNames: t.stringList({ description: 'Extra request headers (names only).', resolve: (r) => (r.definition.headers ?? []).map((h) => h.name) }),
    retry: t.field({ type: RetryPolicyRef, resolve: (r) => retryPolicy(r.definition) }),
    ordering: t.exposeString('ordering', { nullable: true, description: 'null (parallel), aggregate, or payload:<field>.' }),
    pending: t.exposeInt('pending', { description: 'Queue depth: deliveries due or waiting for a retry.' }),
    running: t.exposeInt('running', { description: 'Deliveries being attempted now.' }),
    dead: t.exposeInt('dead', { description: 'Dead letters (see deliveries(filter: {status: dead})).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  eventTriggers: t.field({
    type: [EventTriggerRef],
    description: 'Every event trigger, by name, with its queue. Admin only.',
    authScopes: { role: 'admin' },
    resolve: (_root, _args, ctx) => loadTriggerViews(ctx.database),
  }),
  eventTrigger: t.field({
    type: EventTriggerRef,
    nullable: true,
    description: 'One event trigger by name (null when there is none). Admin only.',
    authScopes: { role: 'admin' },
    args: { name: t.arg.string() },
    resolve: async (_root, { name }, ctx) => (await loadTriggerViews(ctx.database, name))[0] ?? null,
  }),
}));

builder.mutationFields((t) => ({
  pauseTrigger: t.field({
    type: EventTriggerRef,
    description: 'Stop sending a trigger’s deliveries; new ones keep queueing (nothing is missed). NOT_FOUND for an unknown trigger. Admin only.',
    authScopes: { role: 'admin' },
    args: { name: t.arg.string() },
    resolve: async (_root, { name }, ctx) => {
      if (!(await pauseTrigger(ctx.database, name))) throw notFound('Event trigger', name);
      logAdminAction(ctx, 'pauseTrigger', { trigger: name });
      return requireTrigger(ctx, name);
    },
  }),
  resumeTrigger: t.field({
    type: EventTriggerRef,
    description: 'Send a paused trigger’s queued deliveries again, in order. NOT_FOUND for an unknown trigger. Admin only.',
    authScopes: { role: 'admin' },
    args: { name: t.arg.string() },
    resolve: async (_root, { name }, ctx) => {
      if (!(await resumeTrigger(ctx.database, name))) throw notFound('Event trigger', name);
      logAdminAction(ctx, 'resumeTrigger', { trigger: name });
      return requireTrigger(ctx, name);
    },
  }),
}));
