/**
 * Admin: Hasura's manual invocation. A row is sent to a table trigger that
 * enables it (enable_manual) as op MANUAL. It goes through the event log,
 * so the MANUAL event carries the admin's session and trace like any write.
 * The enable_manual check is the same as the engine's invokeManual.
 */
import { insertManualDelivery } from '../../events/sql/insertManualDelivery.js';
import { builder } from '../builder.js';
import { badInput, notFound } from '../errors.js';
import { logAdminAction } from './adminAudit.js';
import { DeliveryRef, findDelivery } from './adminDeliveries.js';
import { requireTrigger } from './adminTriggers.js';

builder.mutationFields((t) => ({
  invokeTrigger: t.field({
    type: DeliveryRef,
    description:
      'Send a row to a table trigger by hand (op MANUAL). NOT_FOUND for an unknown trigger; BAD_USER_INPUT when the trigger does not enable manual invocation. Admin only.',
    authScopes: { role: 'admin' },
    args: { trigger: t.arg.string(), row: t.arg({ type: 'JSONObject', description: 'The row, as data.new of the webhook body.' }) },
    resolve: async (_root, { trigger, row }, ctx) => {
      const found = await requireTrigger(ctx, trigger);
      const def = found.definition;
      if (def.match.kind !== 'table' || !def.match.enableManual) {
        throw badInput(`Event trigger ${trigger} does not enable manual invocation`, 'trigger');
      }
      // Not invokeManual (src/events/admin): it runs on the pool, and the MANUAL event must be written in a
      // transaction whose settings give it the admin's session and trace (see src/events/transaction.ts).
      const created = await ctx.database.sql.begin(async (tx) => {
        await tx`select set_config('threefactor.session', ${JSON.stringify(ctx.events.session ?? {})}, true),
                        set_config('threefactor.trace', ${JSON.stringify(ctx.events.traceContext ?? {})}, true)`;
        return insertManualDelivery(tx, trigger, row);
      });
      if (!created) throw notFound('Event trigger', trigger);
      ctx.events.eventIds.push(created.eventId);
      logAdminAction(ctx, 'invokeTrigger', { trigger, deliveryId: created.deliveryId, eventId: created.eventId });
      const delivery = await findDelivery(ctx.database.db, created.deliveryId);
      if (!delivery) throw new Error(`delivery ${created.deliveryId} vanished after its creation`);
      return delivery;
    },
  }),
}));
