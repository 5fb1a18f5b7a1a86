/**
 * The Payment's mutations, a thin edge over domain/payments: the customer's
 * payOrder and the payment handler's recordPaymentResult. Each checks its
 * arguments, calls the rule of the same name and maps its refusals.
 */
import { z } from 'zod';
import { builder, reason, uuid } from '../../../engine/index.js';
import { payOrder, paymentResultInput, recordPaymentResult } from '../domain/payments.js';
import { fromDomain } from './errors.js';
import { OrderRef } from './order.js';
import { PaymentRef } from './payment.js';

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
}));
