/**
 * decline-unanswered: the order workflow's onTimeout call when the restaurant
 * has not answered a paid order in time: the service declines it with reason
 * restaurant_timeout, and that `order.declined` fails the workflow's wait,
 * which then refunds. The decline is the same compare-and-set from `paid` as
 * the restaurant's approval, so of the two exactly one wins: losing (the
 * order is approved, cancelled or declined already) is success, "too-late".
 */
import { defineStep, RetryLater } from '../../../kit/index.js';
import { graphql } from './gql/index.js';
import { apply, read } from './typedOperations.js';
import { orderInput } from './workflowStep.js';

const DECLINE = graphql(`
  mutation DeclineUnanswered($orderId: ID!) {
    declineOrder(orderId: $orderId, reason: "restaurant_timeout") { status }
  }
`);

const STATUS = graphql(`
  query DeclineUnansweredRead($orderId: ID!) {
    order(id: $orderId) { status }
  }
`);

export interface DeclineResult {
  outcome: 'declined' | 'too-late';
}

export const declineUnanswered = defineStep({
  name: 'decline-unanswered',
  input: orderInput,
  async handle({ input: { orderId } }, tools): Promise<DeclineResult> {
    const result = await apply(tools, DECLINE, { orderId });
    if (result.applied) return { outcome: 'declined' };
    if (result.code === 'ILLEGAL_TRANSITION') return { outcome: 'too-late' };
    // CONFLICT: the order moved while the decline ran; unless it is still paid, the other side won.
    const { order } = await read(tools, STATUS, { orderId });
    if (order?.status !== 'paid') return { outcome: 'too-late' };
    throw new RetryLater(result.message, 1);
  },
});
