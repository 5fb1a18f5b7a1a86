/**
 * validate-order: on order.placed, check the order against the house rules
 * (./orderRules.ts) and record the verdict. The event carries the order as
 * placed, so there is nothing to read; the rules are deterministic, and an
 * order already decided (a redelivery) is left as it is.
 */
import { z } from 'zod';
import { defineHandler, RetryLater } from '../../../kit/index.js';
import { checkOrder } from './orderRules.js';
import { graphql } from './gql/index.js';
import { apply } from './typedOperations.js';

const RECORD = graphql(`
  mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {
    recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { status }
  }
`);

export const validateOrder = defineHandler({
  name: 'validate-order',
  on: ['order.placed'],
  data: z.object({
    orderId: z.uuid(),
    deliveryAddress: z.string(),
    totalCents: z.number().int(),
    items: z.array(z.object({ quantity: z.number().int() })),
  }),
  async handle({ data }, tools) {
    const verdict = checkOrder(data);
    const result = await apply(tools, RECORD, {
      orderId: data.orderId,
      valid: verdict.valid,
      reason: verdict.valid ? null : verdict.reason,
    });
    if (result.applied) return verdict.valid ? 'validated' : 'rejected';
    // The order is no longer `placed`: an earlier delivery of this event decided it.
    if (result.code === 'ILLEGAL_TRANSITION') return 'already-applied';
    throw new RetryLater(result.message, 1);
  },
});
