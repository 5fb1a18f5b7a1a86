/**
 * Payment: one charge attempt for an order (pending until the payment
 * handler records its result). Adds `Order.payments`, newest first. These
 * rows change while a client watches, so their loaders batch but never cache.
 */
import { desc, inArray } from 'drizzle-orm';
import { orders, PAYMENT_STATUSES, payments, type Payment } from '../db/schema.js';
import { builder } from '../../../engine/index.js';
import { OrderRef } from './order.js';

export const PaymentStatusEnum = builder.enumType('PaymentStatus', {
  values: PAYMENT_STATUSES,
});

export const PaymentRef = builder.objectRef<Payment>('Payment');

PaymentRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: PaymentStatusEnum }),
    amountCents: t.exposeInt('amountCents'),
    providerRef: t.exposeString('providerRef', { nullable: true }),
    failureReason: t.exposeString('failureReason', { nullable: true }),
    refundProviderRef: t.exposeString('refundProviderRef', { nullable: true, description: "The provider's refund, once refunded." }),
    refundKey: t.exposeString('refundKey', {
      nullable: true,
      description: 'The idempotency key its refund is reserved, made and recorded under (the reserving refund step’s id), once reserved.',
    }),
    refundedAt: t.expose('refundedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    order: t.loadable({
      type: OrderRef,
      loaderOptions: { cache: false },
      resolve: (payment) => payment.orderId,
      load: async (ids: string[], ctx) => {
        const rows = await ctx.database.db.select().from(orders).where(inArray(orders.id, ids));
        return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Order ${id} is missing`));
      },
    }),
  }),
});

builder.objectField(OrderRef, 'payments', (t) =>
  t.loadableList({
    type: PaymentRef,
    loaderOptions: { cache: false },
    resolve: (order) => order.id,
    load: async (orderIds: string[], ctx) => {
      const rows = await ctx.database.db
        .select()
        .from(payments)
        .where(inArray(payments.orderId, orderIds))
        .orderBy(desc(payments.createdAt), desc(payments.id));
      return orderIds.map((id) => rows.filter((r) => r.orderId === id));
    },
  }),
);
