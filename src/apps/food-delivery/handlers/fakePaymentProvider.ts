/**
 * A fake payment provider: no network, fully deterministic, so tests and
 * demos can choose the outcome by the amount.
 *
 *   amount ending in 13 cents (e.g. $10.13)   declined: "card declined"
 *   amount of 0 or less                        declined: "invalid amount"
 *   anything else                              succeeded
 *
 * The provider reference is derived from the payment id, as a real provider
 * keyed by an idempotency key would return the same charge on a retry: a
 * redelivered event never charges twice.
 */
import { createHash } from 'node:crypto';

export interface Charge {
  paymentId: string;
  amountCents: number;
}

export interface ChargeResult {
  succeeded: boolean;
  providerRef: string;
  reason: string | null;
}

export function charge({ paymentId, amountCents }: Charge): ChargeResult {
  const providerRef = `fakepay_${createHash('sha256').update(paymentId).digest('hex').slice(0, 24)}`;
  if (amountCents <= 0) return { succeeded: false, providerRef, reason: 'invalid amount' };
  if (amountCents % 100 === 13) return { succeeded: false, providerRef, reason: 'card declined' };
  return { succeeded: true, providerRef, reason: null };
}
