/**
 * The order state machine as data: for every step, the statuses it may start
 * from, the status it leaves, and the event it writes. Pure and tiny, so the
 * operations, their error messages and the tests read the one table.
 *
 *   placed ─▶ validated ─▶ paid ─▶ approved ─▶ driver_assigned ─▶ picked_up ─▶ delivered
 *      └─▶ rejected   └─▶ payment_failed  └─▶ declined
 */
import type { OrderStatus } from '../db/schema.js';

export const ORDER_PLACED = 'order.placed';

export interface Transition {
  /** The statuses the order must be in; anything else is an illegal transition. */
  from: readonly OrderStatus[];
  /** The status it moves to; null when the step changes the order without moving it (a payment request). */
  to: OrderStatus | null;
  /** The event type the step writes. */
  event: string;
}

export const TRANSITIONS = {
  validate: { from: ['placed'], to: 'validated', event: 'order.validated' },
  reject: { from: ['placed'], to: 'rejected', event: 'order.rejected' },
  // A failed charge may be retried; a pending one blocks a second request (payments_one_pending_uq).
  requestPayment: { from: ['validated', 'payment_failed'], to: null, event: 'payment.requested' },
  markPaid: { from: ['validated', 'payment_failed'], to: 'paid', event: 'order.paid' },
  markPaymentFailed: { from: ['validated', 'payment_failed'], to: 'payment_failed', event: 'order.payment_failed' },
  approve: { from: ['paid'], to: 'approved', event: 'order.approved' },
  decline: { from: ['paid'], to: 'declined', event: 'order.declined' },
  assignDriver: { from: ['approved'], to: 'driver_assigned', event: 'order.driver_assigned' },
  pickUp: { from: ['driver_assigned'], to: 'picked_up', event: 'order.picked_up' },
  deliver: { from: ['picked_up'], to: 'delivered', event: 'order.delivered' },
} as const satisfies Record<string, Transition>;

export type Step = keyof typeof TRANSITIONS;

export function canTransition(step: Step, status: OrderStatus): boolean {
  return (TRANSITIONS[step].from as readonly OrderStatus[]).includes(status);
}

/** E.g. "Order 1f… is delivered; approveOrder needs status paid". */
export function illegalTransitionMessage(orderId: string, status: OrderStatus, operation: string, step: Step): string {
  return `Order ${orderId} is ${status}; ${operation} needs status ${TRANSITIONS[step].from.join(' or ')}`;
}
