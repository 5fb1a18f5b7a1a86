/**
 * The order's steps after placement, except payment (paymentMutations):
 * validation and driver assignment written back by the service, approval by
 * the restaurant, pick-up and delivery by the assigned driver. Each one is a
 * compare-and-set on the order plus exactly one event, in one transaction.
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { driverAssignments, drivers, type Order } from '../db/schema.js';
import { withEventTransaction } from '../../../engine/events/transaction.js';
import { builder } from '../../../engine/graphql/builder.js';
import type { Context } from '../../../engine/graphql/context.js';
import { clientError, notFound } from '../../../engine/graphql/errors.js';
import { OrderRef } from './order.js';
import { TRANSITIONS, type Step } from '../domain/orderLifecycle.js';
import { orderEvent, transitionOrder, type TransitionInput } from '../domain/orderTransition.js';
import { reason, uuid } from '../../../engine/graphql/modules/validators.js';

/** One step, one event: the common body of the simple mutations. */
function runStep(ctx: Context, mutation: string, orderId: string, step: Step, set?: TransitionInput['set']): Promise<Order> {
  return withEventTransaction(ctx.database.db, ctx.events, async ({ tx, emit }) => {
    const order = await transitionOrder(tx, ctx.viewer, { orderId, step, mutation, set });
    await emit(orderEvent(TRANSITIONS[step].event, order, set?.statusReason ? { reason: set.statusReason } : {}));
    return order;
  });
}

builder.mutationFields((t) => ({
  recordOrderValidation: t.field({
    type: OrderRef,
    description: 'Service write-back of the order check: placed → validated, or → rejected with a reason.',
    authScopes: { role: 'service' },
    args: {
      orderId: t.arg.id({ validate: uuid }),
      valid: t.arg.boolean(),
      reason: t.arg.string({ required: false, validate: reason.nullish() }),
    },
    // loose: the checked args are passed on whole, not just the keys named here.
    validate: z
      .looseObject({ valid: z.boolean(), reason: z.string().nullish() })
      .refine((a) => a.valid || a.reason, { message: 'is required when valid is false', path: ['reason'] }),
    resolve: (_root, { orderId, valid, reason: why }, ctx) =>
      valid
        ? runStep(ctx, 'recordOrderValidation', orderId, 'validate')
        : runStep(ctx, 'recordOrderValidation', orderId, 'reject', { statusReason: why ?? null }),
  }),

  approveOrder: t.field({
    type: OrderRef,
    description: 'The restaurant accepts a paid order.',
    authScopes: { role: 'restaurant' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => runStep(ctx, 'approveOrder', orderId, 'approve'),
  }),

  declineOrder: t.field({
    type: OrderRef,
    description: 'The restaurant refuses a paid order, saying why.',
    authScopes: { role: 'restaurant' },
    args: { orderId: t.arg.id({ validate: uuid }), reason: t.arg.string({ validate: reason }) },
    resolve: (_root, { orderId, reason: why }, ctx) => runStep(ctx, 'declineOrder', orderId, 'decline', { statusReason: why }),
  }),

  assignDriver: t.field({
    type: OrderRef,
    description: 'Service write-back: an available driver takes an approved order.',
    authScopes: { role: 'service' },
    args: { orderId: t.arg.id({ validate: uuid }), driverId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId, driverId }, ctx) =>
      withEventTransaction(ctx.database.db, ctx.events, async ({ tx, emit }) => {
        const [driver] = await tx.select().from(drivers).where(eq(drivers.id, driverId));
        if (!driver) throw notFound('Driver', driverId);
        if (!driver.available) throw clientError('CONFLICT', `Driver ${driverId} is not available`);
        const order = await transitionOrder(tx, ctx.viewer, { orderId, step: 'assignDriver', mutation: 'assignDriver', set: { driverId } });
        await tx.insert(driverAssignments).values({ orderId, driverId });
        await emit(orderEvent(TRANSITIONS.assignDriver.event, order));
        return order;
      }),
  }),

  pickUpOrder: t.field({
    type: OrderRef,
    description: 'The assigned driver has the food.',
    authScopes: { role: 'driver' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => runStep(ctx, 'pickUpOrder', orderId, 'pickUp'),
  }),

  deliverOrder: t.field({
    type: OrderRef,
    description: 'The assigned driver handed the food over.',
    authScopes: { role: 'driver' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => runStep(ctx, 'deliverOrder', orderId, 'deliver'),
  }),
}));
