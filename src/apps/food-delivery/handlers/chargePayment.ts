/**
 * charge-payment: on payment.requested, charge the payment provider
 * (./fakePaymentProvider.ts) and record the result. The charge is keyed by
 * the payment id (its Idempotency-Key), so a redelivery neither charges twice
 * nor records twice: a payment already settled is left as it is. A broker
 * trigger: its `order.paid` is what starts the order workflow.
 */
import { z } from 'zod';
import { defineHandler, RetryLater } from '../../../kit/index.js';
import { paymentProvider } from './fakePaymentProvider.js';
import { graphql } from './gql/index.js';
import { apply, read } from './typedOperations.js';

const RECORD = graphql(`
  mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {
    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { status }
  }
`);

const PAYMENTS = graphql(`
  query ChargePaymentRead($orderId: ID!) {
    order(id: $orderId) { payments { id status } }
  }
`);

export const chargePayment = defineHandler({
  name: 'charge-payment',
  on: ['payment.requested'],
  data: z.object({ orderId: z.uuid(), paymentId: z.uuid(), amountCents: z.number().int() }),
  async handle({ data }, tools) {
    const result = await paymentProvider().charge({ ...data, idempotencyKey: data.paymentId });
    const recorded = await apply(tools, RECORD, { paymentId: data.paymentId, ...result });
    if (recorded.applied) return result.succeeded ? 'paid' : 'declined';
    // CONFLICT says "already settled" or "the order changed meanwhile": the payment tells which.
    const { order } = await read(tools, PAYMENTS, { orderId: data.orderId });
    const payment = order?.payments.find((p) => p.id === data.paymentId);
    if (payment && payment.status !== 'pending') return 'already-applied';
    throw new RetryLater(recorded.message, 1);
  },
});
