/**
 * Paying: the customer asks for a charge (a pending payment and
 * `payment.requested`); the payment handler writes the outcome back, which
 * settles the payment and moves the order to paid or payment_failed. A
 * settled payment can't be settled again: CONFLICT tells a redelivered
 * handler that its work is already recorded.
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { payments } from '../db/schema.js';
import { withEventTransaction } from '../../../engine/events/transaction.js';
import { builder } from '../../../engine/graphql/builder.js';
import { clientError, notFound } from '../../../engine/graphql/errors.js';
import { OrderRef } from './order.js';
import { TRANSITIONS } from '../domain/orderLifecycle.js';
import { orderEvent, transitionOrder } from '../domain/orderTransition.js';
import { PaymentRef } from './payment.js';
import { reason, uuid } from '../../../engine/graphql/modules/validators.js';

builder.mutationFields((t) => ({
  payOrder: t.field({
    type: PaymentRef,
    description: 'Request a charge for your validated (or payment_failed) order. Writes payment.requested.',
    authScopes: { role: 'customer' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) =>
      withEventTransaction(ctx.database.db, ctx.events, async ({ tx, emit }) => {
        // The compare-and-set locks the order row, so a concurrent payOrder waits here and
        // then sees this one's pending payment below (the unique index is the backstop).
        const order = await transitionOrder(tx, ctx.viewer, { orderId, step: 'requestPayment', mutation: 'payOrder' });
        const [pending] = await tx
          .select({ id: payments.id })
          .from(payments)
          .where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')));
        if (pending) throw clientError('CONFLICT', `Order ${orderId} already has payment ${pending.id} pending`, { paymentId: pending.id });
        const [payment] = await tx.insert(payments).values({ orderId, amountCents: order.totalCents }).returning();
        await emit(
          orderEvent(TRANSITIONS.requestPayment.event, order, { paymentId: payment!.id, amountCents: payment!.amountCents }),
        );
        return payment!;
      }),
  }),

  recordPaymentResult: t.field({
    type: OrderRef,
    description: "Service write-back of a charge's outcome. CONFLICT when the payment is already settled.",
    authScopes: { role: 'service' },
    args: {
      paymentId: t.arg.id({ validate: uuid }),
      succeeded: t.arg.boolean(),
      providerRef: t.arg.string({ required: false, validate: z.string().max(200, 'must be at most 200 characters').nullish() }),
      reason: t.arg.string({ required: false, validate: reason.nullish() }),
    },
    // loose: the checked args are passed on whole, not just the keys named here.
    validate: z
      .looseObject({ succeeded: z.boolean(), reason: z.string().nullish() })
      .refine((a) => a.succeeded || a.reason, { message: 'is required when succeeded is false', path: ['reason'] }),
    resolve: (_root, { paymentId, succeeded, providerRef, reason: why }, ctx) =>
      withEventTransaction(ctx.database.db, ctx.events, async ({ tx, emit }) => {
        const [payment] = await tx
          .update(payments)
          .set({
            status: succeeded ? 'succeeded' : 'failed',
            providerRef: providerRef ?? null,
            failureReason: succeeded ? null : (why ?? null),
            updatedAt: sql`now()`,
          })
          .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending')))
          .returning();
        if (!payment) {
          const [settled] = await tx.select({ status: payments.status }).from(payments).where(eq(payments.id, paymentId));
          if (!settled) throw notFound('Payment', paymentId);
          throw clientError('CONFLICT', `Payment ${paymentId} is already ${settled.status}`, { status: settled.status });
        }
        const step = succeeded ? 'markPaid' : 'markPaymentFailed';
        const order = await transitionOrder(tx, ctx.viewer, {
          orderId: payment.orderId,
          step,
          mutation: 'recordPaymentResult',
          set: { statusReason: succeeded ? null : (why ?? null) },
        });
        await emit(
          orderEvent(TRANSITIONS[step].event, order, {
            paymentId: payment.id,
            amountCents: payment.amountCents,
            providerRef: payment.providerRef,
            ...(succeeded ? {} : { reason: why ?? null }),
          }),
        );
        return order;
      }),
  }),
}));
