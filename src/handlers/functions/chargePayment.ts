/**
 * charge-payment: on payment.requested, charge the fake provider
 * (./fakePaymentProvider.ts) and record the result. The charge is keyed by
 * the payment id, so a redelivery neither charges twice nor records twice.
 */
import { z } from 'zod';
import { defineHandler } from '../kit/index.js';
import { charge } from './fakePaymentProvider.js';

const RECORD = /* GraphQL */ `
  mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {
    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { __typename }
  }
`;

export const chargePayment = defineHandler({
  name: 'charge-payment',
  on: ['payment.requested'],
  data: z.object({ paymentId: z.uuid(), amountCents: z.number().int() }),
  async handle({ data }, { apply }) {
    const result = charge(data);
    const recorded = await apply(RECORD, { paymentId: data.paymentId, ...result });
    if (!recorded.applied) return 'already-applied';
    return result.succeeded ? 'paid' : 'declined';
  },
});
