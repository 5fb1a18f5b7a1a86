/**
 * The order's steps after placement, except paying (payments.ts) and
 * driver assignment (driverAssignment.ts): the service's validation verdict,
 * the restaurant's approval or decline, the customer's cancel, the assigned
 * driver's pick-up and delivery. Each is a compare-and-set on the order plus exactly one event,
 * in one transaction. Named after the GraphQL mutations that call them.
 */
import { z } from 'zod';
import { withEventTransaction } from '../../../engine/index.js';
import type { Order } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { CUSTOMER_CANCEL, RESTAURANT_TIMEOUT, TRANSITIONS, type Step } from './orderLifecycle.js';
import { foodRole } from './roles.js';
import { orderEvent, transitionOrder, type TransitionInput } from './orderTransition.js';

/** One step, one event; a reason set on the order is also in the event. */
function takeStep(caller: Caller, operation: string, orderId: string, step: Step, set?: TransitionInput['set']): Promise<Order> {
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    const order = await transitionOrder(tx, caller.viewer, { orderId, step, operation, set });
    await emit(orderEvent(TRANSITIONS[step].event, order, set?.statusReason ? { reason: set.statusReason } : {}));
    return order;
  });
}

/**
 * A verdict needs a reason when it rejects. Checked on the operation's whole
 * input before it runs (loose: the other keys pass through).
 */
export const orderValidationInput = z
  .looseObject({ valid: z.boolean(), reason: z.string().nullish() })
  .refine((a) => a.valid || a.reason, { message: 'is required when valid is false', path: ['reason'] });

/** The service's verdict on a placed order: placed → validated, or → rejected with the reason. */
export function recordOrderValidation(caller: Caller, input: { orderId: string; valid: boolean; reason?: string | null }): Promise<Order> {
  return input.valid
    ? takeStep(caller, 'recordOrderValidation', input.orderId, 'validate')
    : takeStep(caller, 'recordOrderValidation', input.orderId, 'reject', { statusReason: input.reason ?? null });
}

/** The restaurant accepts its paid order. */
export function approveOrder(caller: Caller, orderId: string): Promise<Order> {
  return takeStep(caller, 'approveOrder', orderId, 'approve');
}

/**
 * The restaurant refuses its paid order, saying why; or the service does, with reason restaurant_timeout,
 * when the restaurant never answered (the order workflow's timeout). That reason is the service's alone, so
 * the refund can tell the two apart.
 */
export async function declineOrder(caller: Caller, orderId: string, reason: string): Promise<Order> {
  const byService = foodRole(caller.viewer) === 'service';
  if (byService !== (reason === RESTAURANT_TIMEOUT)) {
    throw DomainError.badInput(
      byService ? `the service declines only with reason ${RESTAURANT_TIMEOUT}` : `${RESTAURANT_TIMEOUT} is the service's reason`,
      'reason',
    );
  }
  return takeStep(caller, 'declineOrder', orderId, 'decline', { statusReason: reason });
}

/** The customer calls off their order before the restaurant approved it; a paid one is then refunded (the order workflow). */
export function cancelOrder(caller: Caller, orderId: string): Promise<Order> {
  return takeStep(caller, 'cancelOrder', orderId, 'cancel', { statusReason: CUSTOMER_CANCEL });
}

/** The assigned driver has the food. */
export function pickUpOrder(caller: Caller, orderId: string): Promise<Order> {
  return takeStep(caller, 'pickUpOrder', orderId, 'pickUp');
}

/** The assigned driver handed the food over. */
export function deliverOrder(caller: Caller, orderId: string): Promise<Order> {
  return takeStep(caller, 'deliverOrder', orderId, 'deliver');
}
