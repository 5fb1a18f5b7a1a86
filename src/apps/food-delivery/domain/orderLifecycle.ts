/**
 * The order state machine as data: for every step, the statuses it may start
 * from, the status it leaves, and the event it writes. Pure and tiny, so the
 * operations, their error messages and the tests read the one table.
 *
 *   placed ─▶ validated ─▶ paid ─▶ approved ─▶ driver_assigned ─▶ picked_up ─▶ delivered
 *      └─▶ rejected   └─▶ payment_failed  └─▶ declined
 *   placed, validated, payment_failed, paid ─▶ cancelled        (the customer, before approval)
 *   declined, cancelled, approved, paid ─▶ refunding            (the refund step reserves the order, with its key)
 *   refunding ─▶ refunded                                       (the refund's write-back, with that key)
 *
 * Where two actors race on one order (the restaurant approves as the timeout
 * declines, the customer cancels as the restaurant approves) both steps start
 * from `paid`, so the compare-and-set lets exactly one through. The refund
 * reserves before any money moves, so a driver assignment that outlived its
 * step's timeout and the refund race on `approved` the same way: either the
 * driver gets the order (and nothing is refunded) or the refund does (and no
 * driver is assigned), never both.
 */
import type { OrderStatus } from '../db/schema.js';

export const ORDER_PLACED = 'order.placed';

/** Written beside `order.refunded`, in the same transaction: the money's side of the refund. */
export const REFUND_SUCCEEDED = 'refund.succeeded';

/** The statusReason of an order the customer cancelled, and of its refund. */
export const CUSTOMER_CANCEL = 'customer_cancel';
/** The statusReason of an order the service declined because its restaurant never answered. */
export const RESTAURANT_TIMEOUT = 'restaurant_timeout';

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
  // A charge that lands after the cancel: the payment settles, the order stays cancelled (and is refunded).
  captureAfterCancel: { from: ['cancelled'], to: null, event: 'payment.captured_after_cancel' },
  failAfterCancel: { from: ['cancelled'], to: null, event: 'payment.failed_after_cancel' },
  approve: { from: ['paid'], to: 'approved', event: 'order.approved' },
  // The restaurant's own, or the service's when the restaurant never answered (reason restaurant_timeout).
  decline: { from: ['paid'], to: 'declined', event: 'order.declined' },
  // Not after approval: the kitchen has started.
  cancel: { from: ['placed', 'validated', 'payment_failed', 'paid'], to: 'cancelled', event: 'order.cancelled' },
  // Before the provider is called: from here on no driver can take the order, and only this key records the refund.
  reserveRefund: { from: ['declined', 'cancelled', 'approved', 'paid'], to: 'refunding', event: 'refund.requested' },
  refund: { from: ['refunding'], to: 'refunded', event: 'order.refunded' },
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
