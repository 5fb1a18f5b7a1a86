/**
 * The rules an order must pass before it may be paid for. Pure and
 * deterministic, so a redelivered event always reaches the same verdict.
 */

export interface OrderToCheck {
  deliveryAddress: string;
  totalCents: number;
  items: Array<{ quantity: number }>;
}

export type Verdict = { valid: true } | { valid: false; reason: string };

export const ORDER_LIMITS = {
  /** One courier bag. */
  maxItems: 30,
  maxTotalCents: 500_00,
} as const;

/** Couriers cannot hand food to a PO box. */
const PO_BOX = /\bp\.?\s*o\.?\s*box\b/i;

export function checkOrder(order: OrderToCheck): Verdict {
  const itemCount = order.items.reduce((sum, item) => sum + item.quantity, 0);
  if (itemCount === 0) return reject('the order has no items');
  if (itemCount > ORDER_LIMITS.maxItems) return reject(`the order has ${itemCount} items; at most ${ORDER_LIMITS.maxItems} fit one delivery`);
  if (order.totalCents > ORDER_LIMITS.maxTotalCents) {
    return reject(`the order total ${dollars(order.totalCents)} exceeds the ${dollars(ORDER_LIMITS.maxTotalCents)} limit`);
  }
  const address = order.deliveryAddress.trim();
  if (!/\d/.test(address)) return reject('the delivery address has no street number');
  if (PO_BOX.test(address)) return reject('we cannot deliver to a PO box');
  return { valid: true };
}

const reject = (reason: string): Verdict => ({ valid: false, reason });
const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
