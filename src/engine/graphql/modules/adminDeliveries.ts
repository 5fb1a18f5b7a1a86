/**
 * Admin: deliveries (one per event and trigger) as a Relay connection,
 * filtered by trigger, status (status: dead is the dead-letter view), event
 * and time, each with its attempt log; one delivery by id; the attempt log
 * of one delivery; and each event's deliveries. Related rows are batched
 * through dataloaders.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import type { Db } from '../../db/client.js';
import { DELIVERY_SOURCES, DELIVERY_STATUSES, deliveries, type DeliveryRow } from '../../db/schema/delivery.js';
import { events } from '../../db/schema/events.js';
import { recentAttempts, type AttemptLog } from '../../events/sql/recentAttempts.js';
import { builder } from '../builder.js';
import { notFound } from '../errors.js';
import { EventRef, PAGE } from './adminEvents.js';
import { deliveryCursor, pageDeliveries } from './deliveryPage.js';
import { uuid } from './validators.js';

/** Attempts shown per delivery: the latest ones (a delivery redelivered many times keeps its whole log in the table). */
export const ATTEMPTS_SHOWN = 100;

export const DeliveryStatusEnum = builder.enumType('DeliveryStatus', {
  description: 'pending (due or waiting for a retry), running (leased by a dispatcher), delivered, dead (retries exhausted: a dead letter).',
  values: DELIVERY_STATUSES,
});

export const DeliverySourceEnum = builder.enumType('DeliverySource', {
  description: 'event (routed when the event was written), manual (invokeTrigger) or replay (replayEvents).',
  values: DELIVERY_SOURCES,
});

export const AttemptOutcomeEnum = builder.enumType('AttemptOutcome', {
  description:
    'What an attempt decided: delivered (2xx), retry (failed, will retry), dead (a permanent status, or no retry left) or paused (410 Gone: the trigger was paused, the attempt not counted).',
  values: ['delivered', 'retry', 'dead', 'paused'] as const,
});

export const DeliveryAttemptRef = builder.objectRef<AttemptLog>('DeliveryAttempt').implement({
  description: 'One HTTP call or in-process run of a delivery (an invocation log).',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1-based attempt number of the delivery.' }),
    outcome: t.expose('outcome', { type: AttemptOutcomeEnum }),
    dispatcherId: t.exposeString('dispatcherId'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    httpStatus: t.exposeInt('httpStatus', { nullable: true, description: 'null when no response came (timeout, connection error, handler threw).' }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'The first 2 KB of the response body.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed, truncated to 2 KB.' }),
  }),
});

export const DeliveryRef = builder.objectRef<DeliveryRow>('Delivery');

DeliveryRef.implement({
  description: 'The delivery of one event to one trigger, with its retry state.',
  fields: (t) => ({
    id: t.exposeID('id'),
    triggerName: t.exposeString('triggerName'),
    source: t.expose('source', { type: DeliverySourceEnum }),
    status: t.expose('status', { type: DeliveryStatusEnum }),
    attemptCount: t.exposeInt('attempts', { description: 'Attempts that ran to an outcome.' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    runAt: t.expose('runAt', { type: 'DateTime', description: 'Not attempted before this time (retry backoff).' }),
    lockedBy: t.exposeString('lockedBy', { nullable: true, description: 'The dispatcher running it, while running.' }),
    lockedUntil: t.expose('lockedUntil', { type: 'DateTime', nullable: true }),
    orderingKey: t.exposeString('orderingKey', { nullable: true }),
    lastHttpStatus: t.exposeInt('lastStatus', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    event: t.loadable({
      type: EventRef,
      resolve: (d) => d.eventId,
      load: async (ids: string[], ctx) => {
        const rows = await ctx.database.db.select().from(events).where(inArray(events.id, ids));
        return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Event ${id} is missing`));
      },
    }),
    attempts: t.loadableGroup({
      type: DeliveryAttemptRef,
      description: `The attempt log, oldest first (at most the latest ${ATTEMPTS_SHOWN}).`,
      resolve: (d) => d.id,
      load: (ids: string[], ctx) => recentAttempts(ctx.database.sql, ids, ATTEMPTS_SHOWN),
      group: (a) => a.deliveryId,
    }),
  }),
});

builder.objectField(EventRef, 'deliveries', (t) =>
  t.loadableGroup({
    type: DeliveryRef,
    // The event type is also what the events subscription streams to the service role: delivery state stays admin-only.
    authScopes: { role: 'admin' },
    description: 'Its deliveries, one per trigger (more after a replay or manual invocation), oldest first.',
    resolve: (e) => e.id,
    load: (ids: string[], ctx) =>
      ctx.database.db.select().from(deliveries).where(inArray(deliveries.eventId, ids)).orderBy(asc(deliveries.createdAt), asc(deliveries.id)),
    group: (d) => d.eventId,
  }),
);

export const DeliveryConnection = builder.connectionObject({ type: DeliveryRef, name: 'DeliveryConnection' }, { name: 'DeliveryEdge' });

const DeliveryFilterInput = builder.inputType('DeliveryFilter', {
  fields: (t) => ({
    trigger: t.string({ required: false, description: 'Only this trigger’s deliveries.' }),
    status: t.field({ type: DeliveryStatusEnum, required: false, description: 'dead: the dead-letter queue.' }),
    eventId: t.id({ required: false, validate: uuid.nullish() }),
    from: t.field({ type: 'DateTime', required: false, description: 'created_at >= from.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'created_at < to.' }),
  }),
});

export async function findDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  return row;
}

builder.queryFields((t) => ({
  deliveries: t.connection(
    {
      type: DeliveryRef,
      description: 'Deliveries, newest first; filter status: dead for the dead-letter queue. Admin only.',
      authScopes: { role: 'admin' },
      args: { filter: t.arg({ type: DeliveryFilterInput, required: false }) },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection({ args, toCursor: deliveryCursor, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
          pageDeliveries(ctx.database.db, args.filter && { ...args.filter, eventId: args.filter.eventId?.toString() }, page),
        ),
    },
    DeliveryConnection,
  ),
  delivery: t.field({
    type: DeliveryRef,
    nullable: true,
    description: 'One delivery by id (null when there is none). Admin only.',
    authScopes: { role: 'admin' },
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { id }, ctx) => (await findDelivery(ctx.database.db, id)) ?? null,
  }),
  deliveryAttempts: t.field({
    type: [DeliveryAttemptRef],
    description: `The attempt log of one delivery, oldest first (at most the latest ${ATTEMPTS_SHOWN}); NOT_FOUND for an unknown delivery. Admin only.`,
    authScopes: { role: 'admin' },
    args: { deliveryId: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { deliveryId }, ctx) => {
      if (!(await findDelivery(ctx.database.db, deliveryId))) throw notFound('Delivery', deliveryId);
      return recentAttempts(ctx.database.sql, [deliveryId], ATTEMPTS_SHOWN);
    },
  }),
}));
