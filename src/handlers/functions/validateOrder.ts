/**
 * validate-order: on order.placed, check the order against the house rules
 * (./orderRules.ts) and record the verdict. The rules are deterministic, and
 * an order already decided (a redelivery) is left as it is.
 */
import { z } from 'zod';
import { defineHandler, PermanentFailure, RetryLater } from '../kit/index.js';
import { checkOrder, type OrderToCheck } from './orderRules.js';

const ORDER = /* GraphQL */ `
  query ValidateOrderRead($id: ID!) {
    order(id: $id) { status deliveryAddress totalCents items { quantity } }
  }
`;

const RECORD = /* GraphQL */ `
  mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {
    recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { status }
  }
`;

export const validateOrder = defineHandler({
  name: 'validate-order',
  on: ['order.placed'],
  data: z.object({ orderId: z.uuid() }),
  async handle({ data }, { graphql, apply }) {
    const { order } = await graphql<{ order: (OrderToCheck & { status: string }) | null }>(ORDER, { id: data.orderId });
    if (!order) throw new PermanentFailure(`order ${data.orderId} does not exist`);
    if (order.status !== 'placed') return 'already-applied';
    const verdict = checkOrder(order);
    const result = await apply(RECORD, {
      orderId: data.orderId,
      valid: verdict.valid,
      reason: verdict.valid ? null : verdict.reason,
    });
    if (result.applied) return verdict.valid ? 'validated' : 'rejected';
    // Decided by a concurrent delivery of the same event since the read.
    if (result.code === 'ILLEGAL_TRANSITION') return 'already-applied';
    throw new RetryLater(result.message, 1);
  },
});
