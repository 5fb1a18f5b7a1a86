/**
 * The payment provider the handlers charge and refund through. By default a
 * fake in this process: no network, fully deterministic, so tests and demos
 * choose the outcome by the amount.
 *
 *   amount ending in 13 cents (e.g. $10.13)   declined: "card declined"
 *   amount of 0 or less                        declined: "invalid amount"
 *   anything else                              succeeded
 *
 * References are derived from the payment id, as a real provider keyed by an
 * idempotency key would return the same charge (or refund) on a retry: a
 * redelivered event never charges, or refunds, twice.
 *
 * With PAYMENT_PROVIDER_URL set (read by the handler process), the same two
 * calls go over HTTP instead, as to a real provider: `POST <url>/charges` and
 * `POST <url>/refunds` with a JSON body and an `Idempotency-Key` header, so a
 * test can record every call (test/support/paymentProvider.ts). A 5xx or no
 * answer is retried (RetryLater), any other non-2xx fails for good.
 */
import { createHash } from 'node:crypto';
import { PermanentFailure, RetryLater } from '../../../kit/index.js';

export interface Charge {
  paymentId: string;
  amountCents: number;
}

export interface ChargeResult {
  succeeded: boolean;
  providerRef: string;
  reason: string | null;
}

export interface Refund {
  paymentId: string;
  orderId: string;
  amountCents: number;
  /** The charge being refunded (its providerRef). */
  chargeRef: string | null;
  /** The refund step's id: a provider that has seen it returns the refund it made then. */
  idempotencyKey: string;
}

export interface RefundResult {
  refundRef: string;
}

export interface PaymentProvider {
  charge(charge: Charge & { orderId: string; idempotencyKey: string }, signal?: AbortSignal): Promise<ChargeResult>;
  refund(refund: Refund, signal?: AbortSignal): Promise<RefundResult>;
}

/** The provider env variable; unset: the in-process fake. */
export const PAYMENT_PROVIDER_URL = 'PAYMENT_PROVIDER_URL';

const ref = (prefix: string, id: string) => `${prefix}_${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;

export function charge({ paymentId, amountCents }: Charge): ChargeResult {
  const providerRef = ref('fakepay', paymentId);
  if (amountCents <= 0) return { succeeded: false, providerRef, reason: 'invalid amount' };
  if (amountCents % 100 === 13) return { succeeded: false, providerRef, reason: 'card declined' };
  return { succeeded: true, providerRef, reason: null };
}

/** One refund per payment, whatever the key: the fake never gives money back twice. */
export function refund({ paymentId }: Pick<Refund, 'paymentId'>): RefundResult {
  return { refundRef: ref('fakerefund', paymentId) };
}

const fake: PaymentProvider = {
  charge: (c) => Promise.resolve(charge(c)),
  refund: (r) => Promise.resolve(refund(r)),
};

/** The provider this process uses: over HTTP when PAYMENT_PROVIDER_URL is set, else the fake. */
export function paymentProvider(env: NodeJS.ProcessEnv = process.env): PaymentProvider {
  const url = env[PAYMENT_PROVIDER_URL];
  return url ? httpProvider(url) : fake;
}

const PROVIDER_TIMEOUT_MS = 10_000;

export function httpProvider(baseUrl: string): PaymentProvider {
  const base = baseUrl.replace(/\/+$/, '');
  async function post(path: string, key: string, body: object, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(PROVIDER_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new RetryLater(`payment provider unreachable: ${err instanceof Error ? err.message : String(err)}`, 2);
    }
    const text = await res.text();
    if (res.status >= 500) throw new RetryLater(`payment provider answered ${res.status}`, 2);
    if (!res.ok) throw new PermanentFailure(`payment provider refused ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  }
  return {
    async charge(c, signal) {
      const body = await post('/charges', c.idempotencyKey, { paymentId: c.paymentId, orderId: c.orderId, amountCents: c.amountCents }, signal);
      return chargeResult(body);
    },
    async refund(r, signal) {
      const { idempotencyKey, ...body } = r;
      return refundResult(await post('/refunds', idempotencyKey, body, signal));
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function chargeResult(body: unknown): ChargeResult {
  if (isRecord(body) && typeof body.succeeded === 'boolean' && typeof body.providerRef === 'string') {
    return { succeeded: body.succeeded, providerRef: body.providerRef, reason: typeof body.reason === 'string' ? body.reason : null };
  }
  throw new RetryLater('payment provider sent a charge without succeeded/providerRef', 2);
}

function refundResult(body: unknown): RefundResult {
  if (isRecord(body) && typeof body.refundRef === 'string') return { refundRef: body.refundRef };
  throw new RetryLater('payment provider sent a refund without refundRef', 2);
}
