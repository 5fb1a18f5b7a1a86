/**
 * Admin: replay the event log to one trigger: every matching event (by the
 * trigger's own matching, narrowed by type, time and log position) gets a
 * new delivery to it, oldest first. This is how a new handler catches up or
 * an environment is rebuilt from history. Large replays are paged
 * (src/events/admin/replay.ts); one call creates at most `limit`
 * deliveries and says where to continue.
 */
import { z } from 'zod';
import { replay, ReplayError } from '../../events/admin/replay.js';
import { builder } from '../builder.js';
import { badInput } from '../errors.js';
import { logAdminAction } from './adminAudit.js';
import { EventTriggerRef, requireTrigger, type TriggerView } from './adminTriggers.js';
import { readPosition } from './eventPage.js';
import { eventTypes } from './validators.js';

/** Deliveries created per statement. */
const PAGE = 10_000;
const DEFAULT_LIMIT = 100_000;
const MAX_LIMIT = 1_000_000;

interface ReplayOutcome {
  count: number;
  lastCursor: string | null;
  complete: boolean;
  trigger: TriggerView;
}

const ReplayResultRef = builder.objectRef<ReplayOutcome>('ReplayResult').implement({
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Deliveries created (events that will be delivered again).' }),
    lastCursor: t.exposeString('lastCursor', { nullable: true, description: 'Log position of the last event replayed.' }),
    complete: t.exposeBoolean('complete', {
      description: 'false when `limit` was reached first: call again with filter.afterCursor = lastCursor to continue.',
    }),
    trigger: t.field({ type: EventTriggerRef, description: 'The trigger, with its queue after the call.', resolve: (r) => r.trigger }),
  }),
});

const ReplayFilterInput = builder.inputType('ReplayFilter', {
  fields: (t) => ({
    types: t.stringList({ required: false, validate: eventTypes, description: 'Only these event types (exact), among those the trigger matches.' }),
    from: t.field({ type: 'DateTime', required: false, description: 'created_at >= from.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'created_at < to.' }),
    afterCursor: t.string({ required: false, description: 'Only events after this log position (an Event.cursor), exclusive.' }),
    beforeCursor: t.string({ required: false, description: 'Only events before this log position, exclusive.' }),
  }),
});

builder.mutationFields((t) => ({
  replayEvents: t.field({
    type: ReplayResultRef,
    description:
      'Deliver again, to this trigger only, every logged event it matches within the filter, oldest first. NOT_FOUND for an unknown trigger. Admin only.',
    authScopes: { role: 'admin' },
    args: {
      trigger: t.arg.string(),
      filter: t.arg({ type: ReplayFilterInput, required: false }),
      limit: t.arg.int({
        required: false,
        description: `At most this many deliveries per call (default ${DEFAULT_LIMIT}).`,
        validate: z.number().int().min(1, 'must be at least 1').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).nullish(),
      }),
    },
    resolve: async (_root, { trigger, filter, limit }, ctx) => {
      await requireTrigger(ctx, trigger);
      // Checked up front so a bad cursor is the caller's error, named by its field.
      if (filter?.afterCursor) readPosition(filter.afterCursor, 'filter.afterCursor');
      if (filter?.beforeCursor) readPosition(filter.beforeCursor, 'filter.beforeCursor');
      const max = limit ?? DEFAULT_LIMIT;
      let count = 0;
      let lastCursor: string | null = null;
      let complete = false;
      let afterCursor = filter?.afterCursor ?? undefined;
      while (count < max) {
        const page = Math.min(PAGE, max - count);
        let result;
        try {
          result = await replay(ctx.database, {
            trigger,
            types: filter?.types ?? undefined,
            from: filter?.from ?? undefined,
            to: filter?.to ?? undefined,
            afterCursor,
            beforeCursor: filter?.beforeCursor ?? undefined,
            limit: page,
          });
        } catch (err) {
          if (err instanceof ReplayError) throw badInput(err.message);
          throw err;
        }
        count += result.created;
        lastCursor = result.lastCursor ?? lastCursor;
        if (result.created < page || !result.lastCursor) {
          complete = true;
          break;
        }
        afterCursor = result.lastCursor;
      }
      logAdminAction(ctx, 'replayEvents', { trigger, filter: filter ?? null, limit: max, replayed: count, lastCursor, complete });
      return { count, lastCursor, complete, trigger: await requireTrigger(ctx, trigger) };
    },
  }),
}));
