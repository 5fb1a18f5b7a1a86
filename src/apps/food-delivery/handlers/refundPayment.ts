/**
 * refund-payment: the compensation of the order workflow (and the one step
 * of refund-late-payment): give the customer their money back and end the
 * order `refunded`, unless a driver got the order first. It reserves the
 * order before any money moves (reserveRefund: `refunding`, keyed by the
 * step id), so an assign-driver call that outlived its step's timeout
 * either took the order before (then nothing is refunded: `not-refunded`,
 * the food comes) or finds it refunding and leaves it (then no driver is
 * assigned). The provider's refund is made with the step id as its
 * idempotency key, so a step invoked again after a crash (same step, same
 * id) finds its reservation standing and gets the same refund back, never a
 * second one; the write-back records it under that key, and a second
 * write-back with it is CONFLICT: already applied. A reservation made by
 * another step (the same step retried from failed, which has a new id;
 * another workflow's refund of the order) is finished under its key, not
 * this step's: one key per order's refund, so the provider refunds once. The reason comes from
 * the order's state (the API reads it: declined, restaurant_timeout,
 * customer_cancel); an order still approved had no driver (no_driver).
 */
import { defineStep, PermanentFailure, RetryLater } from '../../../kit/index.js';
import { paymentProvider } from './fakePaymentProvider.js';
import { graphql } from './gql/index.js';
import type { RefundReason } from './gql/graphql.js';
import { apply, read } from './typedOperations.js';
import { orderInput } from './workflowStep.js';

const ORDER = graphql(`
  query RefundPaymentRead($orderId: ID!) {
    order(id: $orderId) { status payments { id status amountCents providerRef refundKey } }
  }
`);

const RESERVE = graphql(`
  mutation ReserveRefund($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {
    reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { status }
  }
`);

const RECORD = graphql(`
  mutation RecordRefund($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {
    recordRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, refundRef: $refundRef) { status statusReason }
  }
`);

/** The statuses reserveRefund takes (TRANSITIONS.reserveRefund in the domain), and its own: reserved already, by this step or another. */
const REFUNDABLE = new Set(['declined', 'cancelled', 'approved', 'paid', 'refunding']);

/** A driver got the order before the refund was reserved: the customer gets the food, so no money goes back. */
const WITH_DRIVER = new Set(['driver_assigned', 'picked_up', 'delivered']);

/** What the order's state does not say itself: approved, the driver step failed; paid, the restaurant step did. */
const REASON: Record<string, RefundReason> = { approved: 'no_driver', paid: 'restaurant_timeout' };

/** The step's result. */
export type RefundResult =
  | { outcome: 'refunded'; refundRef: string; reason: string | null; idempotencyKey: string }
  | { outcome: 'not-refunded'; status: string }
  | { outcome: 'already-applied' | 'nothing-to-refund' };

/** The key a refunding order's refund is reserved under, if it is refunding. */
function reservedKey(order: { status: string; payments: ReadonlyArray<{ status: string; refundKey?: string | null }> }): string | null {
  if (order.status !== 'refunding') return null;
  return order.payments.find((p) => p.status === 'succeeded')?.refundKey ?? null;
}

export const refundPayment = defineStep({
  name: 'refund-payment',
  input: orderInput,
  async handle(step, tools): Promise<RefundResult> {
    const { orderId } = step.input;
    const { order } = await read(tools, ORDER, { orderId });
    if (!order) throw new PermanentFailure(`order ${orderId} is not there to refund`);
    if (order.status === 'refunded') return { outcome: 'already-applied' };
    const payment = order.payments.find((p) => p.status === 'succeeded');
    if (!payment) return { outcome: 'nothing-to-refund' };
    if (WITH_DRIVER.has(order.status)) return { outcome: 'not-refunded', status: order.status };
    if (!REFUNDABLE.has(order.status)) throw new PermanentFailure(`order ${orderId} is ${order.status}; it cannot be refunded`);

    // The step id (also the delivery's webhook-id): the same on every invocation of this step. Or the key an earlier
    // reservation holds (this step again after a crash: the same id; another step: its id, which this one finishes).
    let idempotencyKey = reservedKey(order) ?? step.id;
    if (order.status !== 'refunding') {
      const reserved = await apply(tools, RESERVE, { orderId, idempotencyKey, reason: REASON[order.status] ?? null });
      if (!reserved.applied) {
        const { order: now } = await read(tools, ORDER, { orderId });
        // Lost the race to the driver assignment: nothing was reserved, no money moved.
        if (now && WITH_DRIVER.has(now.status)) return { outcome: 'not-refunded', status: now.status };
        if (now?.status === 'refunded') return { outcome: 'already-applied' };
        // Lost it to another refund step: finish that one's refund, under its key.
        const theirs = now ? reservedKey(now) : null;
        if (!theirs) throw new RetryLater(reserved.message, 1);
        idempotencyKey = theirs;
      }
    }

    const { refundRef } = await paymentProvider().refund({
      paymentId: payment.id,
      orderId,
      amountCents: payment.amountCents,
      chargeRef: payment.providerRef ?? null,
      idempotencyKey,
    });
    const recorded = await apply(tools, RECORD, { orderId, idempotencyKey, refundRef });
    if (recorded.applied) return { outcome: 'refunded', refundRef, reason: recorded.data.recordRefund.statusReason ?? null, idempotencyKey };
    const { order: now } = await read(tools, ORDER, { orderId });
    if (now?.status === 'refunded') return { outcome: 'already-applied' };
    // Reserved under this key, so nothing but this write-back moves the order on: try it again.
    throw new RetryLater(recorded.message, 1);
  },
});
