/**
 * Paying: the customer asks for a charge (a pending payment and
 * `payment.requested`); the payment handler writes the outcome back, which
 * settles the payment and moves the order to paid or payment_failed. A
 * second request while one is pending is CONFLICT (with its `paymentId`); a
 * settled payment can't be settled again: CONFLICT (with its `status`) tells
 * a redelivered handler that its work is already recorded. A charge that
 * lands after the customer cancelled settles the payment and leaves the
 * order cancelled (its refund is the workflow's).
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { withEventTransaction } from '../../../engine/index.js';
import { orders, payments, type Order, type Payment } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { isUuid } from './orderAccess.js';
import { TRANSITIONS } from './orderLifecycle.js';
import { orderEvent, transitionOrder } from './orderTransition.js';

/** The customer requests a charge for their validated (or payment_failed) order; its status stays, its version moves. */
export function payOrder(caller: Caller, orderId: string): Promise<Payment> {
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    // The compare-and-set locks the order row, so a concurrent payOrder waits here and
    // then sees this one's pending payment below (the unique index is the backstop).
    const order = await transitionOrder(tx, caller.viewer, { orderId, step: 'requestPayment', operation: 'payOrder' });
    const [pending] = await tx
      .select({ id: payments.id })
      .from(payments)
      .where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')));
    if (pending) throw DomainError.conflict(`Order ${orderId} already has payment ${pending.id} pending`, { paymentId: pending.id });
    const [payment] = await tx.insert(payments).values({ orderId, amountCents: order.totalCents }).returning();
    await emit(orderEvent(TRANSITIONS.requestPayment.event, order, { paymentId: payment!.id, amountCents: payment!.amountCents }));
    return payment!;
  });
}

/**
 * A failed charge needs a reason. Checked on the operation's whole input
 * before it runs (loose: the other keys pass through).
 */
export const paymentResultInput = z
  .looseObject({ succeeded: z.boolean(), reason: z.string().nullish() })
  .refine((a) => a.succeeded || a.reason, { message: 'is required when succeeded is false', path: ['reason'] });

export interface PaymentResult {
  paymentId: string;
  succeeded: boolean;
  providerRef?: string | null;
  reason?: string | null;
}

/**
 * The service records a charge's outcome: the payment settles, the order moves to paid or payment_failed.
 * On an order cancelled while the charge was in flight the order stays cancelled, and a success writes
 * `payment.captured_after_cancel` (which starts the refund-late-payment workflow), a failure
 * `payment.failed_after_cancel`.
 */
export async function recordPaymentResult(caller: Caller, { paymentId, succeeded, providerRef, reason }: PaymentResult): Promise<Order> {
  if (!isUuid(paymentId)) throw DomainError.notFound('Payment', paymentId);
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    const [payment] = await tx
      .update(payments)
      .set({
        status: succeeded ? 'succeeded' : 'failed',
        providerRef: providerRef ?? null,
        failureReason: succeeded ? null : (reason ?? null),
        updatedAt: sql`now()`,
      })
      .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending')))
      .returning();
    if (!payment) {
      const [settled] = await tx.select({ status: payments.status }).from(payments).where(eq(payments.id, paymentId));
      if (!settled) throw DomainError.notFound('Payment', paymentId);
      throw DomainError.conflict(`Payment ${paymentId} is already ${settled.status}`, { status: settled.status });
    }
    // Locked, so a cancel either lands before this (the late path) or waits for it (and then finds the order paid).
    const [current] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, payment.orderId)).for('update');
    const late = current?.status === 'cancelled';
    const step = late ? (succeeded ? 'captureAfterCancel' : 'failAfterCancel') : succeeded ? 'markPaid' : 'markPaymentFailed';
    const order = await transitionOrder(tx, caller.viewer, {
      orderId: payment.orderId,
      step,
      operation: 'recordPaymentResult',
      // A cancelled order keeps its reason (customer_cancel): the refund reads it.
      ...(late ? {} : { set: { statusReason: succeeded ? null : (reason ?? null) } }),
    });
    await emit(
      orderEvent(TRANSITIONS[step].event, order, {
        paymentId: payment.id,
        amountCents: payment.amountCents,
        providerRef: payment.providerRef,
        ...(succeeded ? {} : { reason: reason ?? null }),
      }),
    );
    return order;
  });
}
