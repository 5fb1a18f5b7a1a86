/**
 * Moving an order one step. The move is one compare-and-set UPDATE on
 * (id, allowed statuses, owner) that bumps the version, so of two concurrent
 * mutations exactly one wins. When it matches nothing, a second read says
 * why, as a DomainError thrown inside the transaction (which rolls it back).
 * Also the one shape of an order event.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { JsonObject, NewEvent, Tx, Viewer } from '../../../engine/index.js';
import { orders, type Order } from '../db/schema.js';
import { DomainError } from './errors.js';
import { canViewOrder, findOrder, isUuid, notYours, orderScope } from './orderAccess.js';
import { canTransition, illegalTransitionMessage, TRANSITIONS, type Step } from './orderLifecycle.js';

export interface TransitionInput {
  orderId: string;
  step: Step;
  /** The operation that takes the step (e.g. approveOrder), named in error messages. */
  operation: string;
  /** Columns the step sets besides status and version. */
  set?: { statusReason?: string | null; driverId?: string };
}

export async function transitionOrder(tx: Tx, viewer: Viewer, input: TransitionInput): Promise<Order> {
  const { from, to } = TRANSITIONS[input.step];
  if (!isUuid(input.orderId)) throw DomainError.notFound('Order', input.orderId);
  const [row] = await tx
    .update(orders)
    .set({
      ...(to ? { status: to } : {}),
      ...input.set,
      version: sql`${orders.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(orders.id, input.orderId), inArray(orders.status, [...from]), orderScope(viewer)))
    .returning()
    // Prepared (a few shapes: per step and role), so it skips a parse-and-describe round trip.
    .prepare('transitionOrder')
    .execute();
  if (row) return row;
  throw await whyNot(tx, viewer, input);
}

async function whyNot(tx: Tx, viewer: Viewer, { orderId, step, operation }: TransitionInput): Promise<DomainError> {
  const order = await findOrder(tx, orderId);
  if (!order) return DomainError.notFound('Order', orderId);
  if (!canViewOrder(viewer, order)) return notYours(orderId);
  // Allowed now but not when the UPDATE ran: another transaction moved it in between.
  if (canTransition(step, order.status)) return DomainError.conflict(`Order ${orderId} changed while ${operation} ran; try again`);
  return DomainError.illegalTransition(illegalTransitionMessage(orderId, order.status, operation, step), order.status);
}

/** An order event: the new state in the payload, so routing and fan-out never read again. */
export function orderEvent(type: string, order: Order, extra: JsonObject = {}): NewEvent {
  return {
    type,
    aggregateType: 'order',
    aggregateId: order.id,
    payload: {
      orderId: order.id,
      status: order.status,
      version: order.version,
      customerId: order.customerId,
      restaurantId: order.restaurantId,
      driverId: order.driverId,
      totalCents: order.totalCents,
      ...extra,
    },
  };
}
