/**
 * The Payment's mutations, a thin edge over domain/payments and
 * domain/refunds: the customer's payOrder, the payment handler's
 * recordPaymentResult and the refund handler's reserveRefund and
 * recordRefund. Each checks its
 * arguments, calls the rule of the same name and maps its refusals.
 */
import { z } from 'zod';
import { builder, reason, uuid } from '../../../engine/index.js';
import { REFUND_REASONS } from '../db/schema.js';
import { payOrder, paymentResultInput, recordPaymentResult } from '../domain/payments.js';
import { recordRefund, reserveRefund } from '../domain/refunds.js';
import { fromDomain } from './errors.js';
import { OrderRef } from './order.js';
import { PaymentRef } from './payment.js';

const RefundReasonEnum = builder.enumType('RefundReason', {
  description: "Why an order's payment was refunded: its statusReason once refunded.",
  values: REFUND_REASONS,
});

const providerRef = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

builder.mutationFields((t) => ({
  payOrder: t.field({
    type: PaymentRef,
    description: 'Request a charge for your validated (or payment_failed) order. Writes payment.requested.',
    authScopes: { role: 'customer' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => fromDomain(() => payOrder(ctx, orderId)),
  }),

  recordPaymentResult: t.field({
    type: OrderRef,
    description: "Service write-back of a charge's outcome. CONFLICT when the payment is already settled.",
    authScopes: { role: 'service' },
    args: {
      paymentId: t.arg.id({ validate: uuid }),
      succeeded: t.arg.boolean(),
      providerRef: t.arg.string({ required: false, validate: z.string().max(200, 'must be at most 200 characters').nullish() }),
      reason: t.arg.string({ required: false, validate: reason.nullish() }),
    },
    validate: paymentResultInput,
    resolve: (_root, args, ctx) => fromDomain(() => recordPaymentResult(ctx, args)),
  }),

  reserveRefund: t.field({
    type: OrderRef,
    description:
      "Service, before the provider's refund: the order (declined, cancelled, approved or paid) moves to refunding, so no driver can take it any more, and its captured payment keeps idempotencyKey as the refund's. The reason comes from the order's state (declined, restaurant_timeout, customer_cancel), else from `reason`. Writes refund.requested. The same key again on a refunding order succeeds and writes nothing; another key is CONFLICT.",
    authScopes: { role: 'service' },
    args: {
      orderId: t.arg.id({ validate: uuid }),
      idempotencyKey: t.arg.string({ validate: providerRef }),
      reason: t.arg({ type: RefundReasonEnum, required: false }),
    },
    resolve: (_root, args, ctx) => fromDomain(() => reserveRefund(ctx, args)),
  }),

  recordRefund: t.field({
    type: OrderRef,
    description:
      "Service write-back of a refund: the refunding order's captured payment is refunded and the order ends refunded, with the reason its reservation recorded. Only with the idempotencyKey the refund was reserved with (another is CONFLICT); CONFLICT when a refund with this key is already recorded.",
    authScopes: { role: 'service' },
    args: {
      orderId: t.arg.id({ validate: uuid }),
      idempotencyKey: t.arg.string({ validate: providerRef }),
      refundRef: t.arg.string({ validate: providerRef }),
    },
    resolve: (_root, args, ctx) => fromDomain(() => recordRefund(ctx, args)),
  }),
}));
