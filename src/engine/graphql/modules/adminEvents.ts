/**
 * Admin: the event log as a Relay connection (newest first, filtered by
 * type, aggregate and time) and one event by id. Each event's deliveries are
 * added by adminDeliveries.
 */
import { eq } from 'drizzle-orm';
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { events, type EventRow } from '../../db/schema/events.js';
import { builder } from '../builder.js';
import { eventPosition, pageEvents } from './eventPage.js';
import { eventTypes, uuid } from './validators.js';

export const EventRef = builder.objectRef<EventRow>('Event');

EventRef.implement({
  description: 'One event of the log (admin view: with its actor, trace and deliveries).',
  fields: (t) => ({
    id: t.exposeID('id'),
    cursor: t.string({
      description: 'Position in the log, "xid:seq": the edge cursor, and what replayEvents takes as afterCursor/beforeCursor.',
      resolve: eventPosition,
    }),
    type: t.exposeString('type'),
    aggregateType: t.exposeString('aggregateType'),
    aggregateId: t.exposeString('aggregateId'),
    payload: t.expose('payload', { type: 'JSONObject' }),
    session: t.expose('session', { type: 'JSONObject', nullable: true, description: 'Hasura-style session variables of who caused it.' }),
    traceContext: t.expose('traceContext', { type: 'JSONObject', nullable: true, description: 'W3C trace context, e.g. {traceparent}.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const EventConnection = builder.connectionObject({ type: EventRef, name: 'EventConnection' }, { name: 'EventEdge' });

export const EventLogFilterInput = builder.inputType('EventLogFilter', {
  fields: (t) => ({
    types: t.stringList({ required: false, validate: eventTypes, description: 'Only these event types (exact), e.g. ["order.placed"].' }),
    aggregateType: t.string({ required: false }),
    aggregateId: t.string({ required: false }),
    from: t.field({ type: 'DateTime', required: false, description: 'created_at >= from.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'created_at < to.' }),
    engineEvents: t.boolean({
      required: false,
      description: "Include the engine's own events (types threefactor.*: delivery outcomes, pauses, redeliveries, replays); left out by default.",
    }),
  }),
});

export const PAGE = { defaultSize: 20, maxSize: 100 } as const;

builder.queryFields((t) => ({
  events: t.connection(
    {
      type: EventRef,
      description: 'The event log, newest first (log position order). Admin only.',
      authScopes: { role: 'admin' },
      args: { filter: t.arg({ type: EventLogFilterInput, required: false }) },
      resolve: (_root, args, ctx) =>
        resolveCursorConnection({ args, toCursor: eventPosition, ...PAGE }, (page: ResolveCursorConnectionArgs) =>
          pageEvents(ctx.database.db, args.filter, page),
        ),
    },
    EventConnection,
  ),
  event: t.field({
    type: EventRef,
    nullable: true,
    description: 'One event by id (null when there is none). Admin only.',
    authScopes: { role: 'admin' },
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { id }, ctx) => {
      const [row] = await ctx.database.db.select().from(events).where(eq(events.id, id));
      return row ?? null;
    },
  }),
}));
