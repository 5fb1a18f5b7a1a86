/**
 * Refunding an order (the service, for the refund-payment workflow step), in
 * two writes around the provider's call. reserveRefund first: the order
 * moves to `refunding` with `statusReason` naming why, the captured payment
 * takes the idempotency key the refund will be made with, and
 * `refund.requested` commits with it; from then on no driver can take the
 * order (assignDriver starts from `approved`), so money never goes back for
 * an order a driver brings. recordRefund after: the payment is marked
 * refunded with the provider's reference, the order moves to `refunded`, and
 * `refund.succeeded` and `order.refunded` commit with it, only under the
 * reserved key. Both are idempotent by that key: a reserve again with it is
 * a success that writes nothing (the step invoked again after a crash), a
 * write-back again is CONFLICT (status refunded); any other key is CONFLICT.
 */
import { and, eq, sql } from 'drizzle-orm';
import { withEventTransaction, type Tx } from '../../../engine/index.js';
import { orders, payments, REFUND_REASONS, type Order, type OrderStatus, type RefundReason } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { isUuid, orderScope } from './orderAccess.js';
import { canTransition, CUSTOMER_CANCEL, REFUND_SUCCEEDED, RESTAURANT_TIMEOUT, TRANSITIONS } from './orderLifecycle.js';
import { orderEvent, transitionOrder } from './orderTransition.js';

export interface ReserveRefundInput {
  orderId: string;
  /** The key the refund will be made with at the provider (the refund step's id). */
  idempotencyKey: string;
  /** Why, where the order's state does not say (approved: no_driver; paid: restaurant_timeout). */
  reason?: RefundReason | null;
}

export interface RefundInput {
  orderId: string;
  /** The key the refund was made with at the provider: the one it was reserved with. */
  idempotencyKey: string;
  /** The provider's reference of the refund. */
  refundRef: string;
}

/**
 * The reason the order's own state gives: a decline (the restaurant's, or the timeout's) or a cancel.
 * An approved or paid order says nothing; the caller names it.
 */
export function refundReasonOf(status: OrderStatus, statusReason: string | null): RefundReason | null {
  if (status === 'declined') return statusReason === RESTAURANT_TIMEOUT ? 'restaurant_timeout' : 'declined';
  if (status === 'cancelled') return CUSTOMER_CANCEL;
  return null;
}

export function isRefundReason(value: string): value is RefundReason {
  return (REFUND_REASONS as readonly string[]).includes(value);
}

/** The order, locked: what it is now decides the step, and nothing moves it until this transaction ends. */
async function lockOrder(tx: Tx, caller: Caller, orderId: string): Promise<Order | undefined> {
  const [row] = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.id, orderId), orderScope(caller.viewer)))
    .for('update');
  return row;
}

/** The key a refunding order's refund was reserved with (on its captured payment). */
async function reservedKey(tx: Tx, orderId: string): Promise<string | null> {
  const [payment] = await tx
    .select({ refundKey: payments.refundKey })
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.status, 'succeeded')));
  return payment?.refundKey ?? null;
}

const reservedElsewhere = (orderId: string) =>
  DomainError.conflict(`Order ${orderId}'s refund is reserved under another idempotency key`, { status: 'refunding' });

export async function reserveRefund(caller: Caller, input: ReserveRefundInput): Promise<Order> {
  const { orderId, idempotencyKey } = input;
  if (!isUuid(orderId)) throw DomainError.notFound('Order', orderId);
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    const current = await lockOrder(tx, caller, orderId);
    if (current?.status === 'refunding') {
      // The same step again (it crashed after reserving): its reservation stands, nothing more is written.
      if ((await reservedKey(tx, orderId)) === idempotencyKey) return current;
      throw reservedElsewhere(orderId);
    }
    const reason = (current && refundReasonOf(current.status, current.statusReason)) ?? input.reason;
    if (current && canTransition('reserveRefund', current.status) && !reason) {
      throw DomainError.badInput(`Order ${orderId} is ${current.status}; a refund of it needs a reason`, 'reason');
    }
    const order = await transitionOrder(tx, caller.viewer, { orderId, step: 'reserveRefund', operation: 'reserveRefund', set: { statusReason: reason ?? null } });
    const [payment] = await tx
      .update(payments)
      .set({ refundKey: idempotencyKey, updatedAt: sql`now()` })
      .where(and(eq(payments.orderId, orderId), eq(payments.status, 'succeeded')))
      .returning();
    // Throwing rolls the order's move back too.
    if (!payment) throw DomainError.conflict(`Order ${orderId} has no captured payment to refund`, current ? { status: current.status } : {});
    await emit(orderEvent(TRANSITIONS.reserveRefund.event, order, { paymentId: payment.id, amountCents: payment.amountCents, idempotencyKey, reason: reason ?? null }));
    return order;
  });
}

export async function recordRefund(caller: Caller, input: RefundInput): Promise<Order> {
  const { orderId, idempotencyKey, refundRef } = input;
  if (!isUuid(orderId)) throw DomainError.notFound('Order', orderId);
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    const current = await lockOrder(tx, caller, orderId);
    const [done] = await tx
      .select({ id: payments.id })
      .from(payments)
      .where(and(eq(payments.refundKey, idempotencyKey), eq(payments.status, 'refunded')));
    if (done) throw DomainError.conflict(`Refund ${idempotencyKey} is already recorded (payment ${done.id})`, { status: 'refunded', paymentId: done.id });
    if (current?.status === 'refunding' && (await reservedKey(tx, orderId)) !== idempotencyKey) throw reservedElsewhere(orderId);
    // Not refunding (never reserved, or moved on): ILLEGAL_TRANSITION, with the status it is in.
    const order = await transitionOrder(tx, caller.viewer, { orderId, step: 'refund', operation: 'recordRefund' });
    const [payment] = await tx
      .update(payments)
      .set({ status: 'refunded', refundProviderRef: refundRef, refundedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(payments.orderId, orderId), eq(payments.status, 'succeeded'), eq(payments.refundKey, idempotencyKey)))
      .returning();
    if (!payment) throw DomainError.conflict(`Order ${orderId} has no captured payment to refund`, { status: order.status });
    const money = { paymentId: payment.id, amountCents: payment.amountCents, refundRef, idempotencyKey, reason: order.statusReason };
    await emit(orderEvent(REFUND_SUCCEEDED, order, money));
    await emit(orderEvent(TRANSITIONS.refund.event, order, money));
    return order;
  });
}
