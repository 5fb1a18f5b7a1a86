/**
 * refund-late-payment: a charge that landed after the customer cancelled
 * (`payment.captured_after_cancel`: the payment succeeded, the order stayed
 * cancelled) is refunded, in one step; the order ends `refunded`
 * (customer_cancel). The order-fulfilment workflow never starts for such an
 * order: it was never paid.
 */
import type { HandlerMode, WorkflowDefinition } from '../../../engine/index.js';
import { refundPayment } from '../handlers/index.js';
import { targetFor } from '../handlers/triggers.js';
import { PERSISTENT } from './orderFulfilment.js';

export const REFUND_LATE_PAYMENT = 'refund-late-payment';

export function refundLatePayment(mode: HandlerMode): WorkflowDefinition {
  return {
    name: REFUND_LATE_PAYMENT,
    version: 1,
    start: { types: ['payment.captured_after_cancel'], key: 'aggregate' },
    steps: [{ name: 'refund', kind: 'call', handler: refundPayment.name }],
    handlers: { [refundPayment.name]: { target: targetFor(refundPayment, mode), retry: PERSISTENT } },
  };
}
