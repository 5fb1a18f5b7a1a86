/**
 * `events(after, filter)`: the event log as a streaming subscription, for
 * service and admin only. In commit-safe (xid, seq) order, resumable: each
 * event carries its `cursor` ("xid:seq", the same position the admin API
 * pages by and replay takes); subscribing again with `after: <the last
 * cursor seen>` delivers everything missed, then live events. A subscriber
 * that falls too far behind gets a SLOW_CONSUMER error whose
 * `extensions.cursor` is where to resume, and the stream ends. The engine's
 * own events (`threefactor.*`: delivery outcomes, pauses, redeliveries,
 * events/engineEvents.ts) come only with `filter.engineEvents`, which only an
 * admin may set: a service never sees them.
 */
import type { EventRow } from '../../db/schema/events.js';
import { formatCursor } from '../../events/cursor.js';
import { streamEvents, type StreamItem } from '../../realtime/eventStream.js';
import { deliverySeconds, subscribers } from '../../realtime/metrics.js';
import type { LogEvent } from '../../realtime/sql/eventRow.js';
import { builder } from '../builder.js';
import { clientError, forbidden } from '../errors.js';
import { EventRef } from './adminEvents.js';
import { readPosition } from './eventPage.js';
import { eventTypes } from './validators.js';

/** The hub's event as the log's row, so the stream and the admin API share one `Event` type. */
const toEventRow = ({ cursor, ...e }: LogEvent): EventRow => ({ ...e, xid: String(cursor.xid), seq: Number(cursor.seq) });

const EventFilterInput = builder.inputType('EventFilter', {
  fields: (t) => ({
    types: t.stringList({ required: false, validate: eventTypes, description: 'Only these event types, e.g. ["order.placed"].' }),
    aggregateType: t.string({ required: false }),
    aggregateId: t.string({ required: false }),
    engineEvents: t.boolean({
      required: false,
      description: "Include the engine's own events (types threefactor.*: delivery outcomes, pauses, redeliveries, replays). Admin only; left out by default.",
    }),
  }),
});

builder.subscriptionField('events', (t) =>
  t.field({
    type: EventRef,
    description:
      'The event log in commit order. Without `after`: events committed from now on. With `after`: everything after that cursor, then live. Engine events (types `threefactor.*`) only with filter.engineEvents (admin only).',
    authScopes: { role: ['service', 'admin'] },
    args: {
      after: t.arg.string({ required: false }),
      filter: t.arg({ type: EventFilterInput, required: false }),
    },
    subscribe: async (_root, args, ctx) => {
      // The engine's own events (delivery outcomes, pauses) are an operator's view.
      if (args.filter?.engineEvents && ctx.viewer.role !== 'admin') throw forbidden("filter.engineEvents: the engine's own events are for admins only");
      const after = args.after ? readPosition(args.after, 'after') : null;
      const { realtime } = ctx;
      await realtime.start();
      subscribers.inc({ kind: 'events' });
      let untrack = () => {};
      const stream = streamEvents({
        hub: realtime.hub,
        sql: realtime.database.sql,
        log: ctx.log,
        after,
        filter: {
          types: args.filter?.types ?? null,
          aggregateType: args.filter?.aggregateType ?? null,
          aggregateId: args.filter?.aggregateId ?? null,
          withoutEngineEvents: !args.filter?.engineEvents,
        },
        capacity: realtime.subscriberBuffer,
        onClose: () => {
          subscribers.dec({ kind: 'events' });
          untrack();
        },
      });
      untrack = realtime.track(stream);
      return stream;
    },
    resolve: (item: StreamItem) => {
      if ('overflow' in item) {
        const { cursor, capacity } = item.overflow;
        throw clientError(
          'SLOW_CONSUMER',
          `Subscriber fell more than ${capacity} events behind; subscribe again with after: extensions.cursor to resume`,
          { cursor: formatCursor(cursor) },
        );
      }
      deliverySeconds.observe({ kind: 'events' }, (Date.now() - item.event.createdAt.getTime()) / 1000);
      return toEventRow(item.event);
    },
  }),
);
