/**
 * Admin: redeliver chosen deliveries (dead or delivered ones are sent again,
 * pending ones skip their backoff; running ones are left to finish), or a
 * trigger's whole dead-letter queue. The engine's semantics apply
 * (src/events/admin/redeliver.ts): attempts made are kept in the log and the
 * count, and a fresh retry budget is added on top.
 */
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { deliveries, type DeliveryRow } from '../../db/schema/delivery.js';
import { redeliver } from '../../events/admin/redeliver.js';
import { redeliverDead } from '../../events/admin/redeliverDead.js';
import { builder } from '../builder.js';
import { logAdminAction } from './adminAudit.js';
import { DeliveryRef } from './adminDeliveries.js';
import { EventTriggerRef, requireTrigger, type TriggerView } from './adminTriggers.js';
import { uuid } from './validators.js';

/** Ids per call: one UPDATE statement. */
const MAX_IDS = 1_000;

interface RedeliverResult {
  deliveries: DeliveryRow[];
  skippedIds: string[];
}

const RedeliverResultRef = builder.objectRef<RedeliverResult>('RedeliverResult').implement({
  fields: (t) => ({
    count: t.int({ resolve: (r) => r.deliveries.length }),
    deliveries: t.field({ type: [DeliveryRef], description: 'The deliveries made due at once (read after the call: a dispatcher may already be running them).', resolve: (r) => r.deliveries }),
    skippedIds: t.idList({
      description: 'Ids not redelivered: unknown, or running right now (let it finish, then redeliver if needed).',
      resolve: (r) => r.skippedIds,
    }),
  }),
});

const RedeliverDeadResultRef = builder.objectRef<{ count: number; trigger: TriggerView }>('RedeliverDeadResult').implement({
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'Dead letters made pending again.' }),
    trigger: t.field({ type: EventTriggerRef, description: 'The trigger, with its queue after the call.', resolve: (r) => r.trigger }),
  }),
});

builder.mutationFields((t) => ({
  redeliverDeliveries: t.field({
    type: RedeliverResultRef,
    description: `Send deliveries again now (1 to ${MAX_IDS} ids): dead letters come back with a fresh retry budget, delivered ones are re-sent. Admin only.`,
    authScopes: { role: 'admin' },
    args: { ids: t.arg.idList({ validate: z.array(uuid).min(1, 'give at least one id').max(MAX_IDS, `at most ${MAX_IDS} ids per call`) }) },
    resolve: async (_root, args, ctx) => {
      const ids = [...new Set(args.ids.map(String))];
      const changed = await redeliver(ctx.database, ids);
      const done = new Set(changed);
      const skippedIds = ids.filter((id) => !done.has(id));
      logAdminAction(ctx, 'redeliverDeliveries', { requested: ids.length, redelivered: changed, skipped: skippedIds });
      const rows = changed.length ? await ctx.database.db.select().from(deliveries).where(inArray(deliveries.id, changed)) : [];
      return { deliveries: changed.map((id) => rows.find((r) => r.id === id)).filter((r): r is DeliveryRow => r !== undefined), skippedIds };
    },
  }),
  redeliverDead: t.field({
    type: RedeliverDeadResultRef,
    description: 'Send every dead letter of a trigger again, with a fresh retry budget. NOT_FOUND for an unknown trigger. Admin only.',
    authScopes: { role: 'admin' },
    args: { trigger: t.arg.string() },
    resolve: async (_root, { trigger }, ctx) => {
      await requireTrigger(ctx, trigger);
      const count = await redeliverDead(ctx.database, trigger);
      logAdminAction(ctx, 'redeliverDead', { trigger, redelivered: count });
      return { count, trigger: await requireTrigger(ctx, trigger) };
    },
  }),
}));
