/**
 * Domain tables for the food-delivery reference app. Rows here are the
 * current state; the history lives in the event log (./events.ts).
 */
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ORDER_STATUSES = [
  'placed',
  'validated',
  'rejected',
  'paid',
  'payment_failed',
  'approved',
  'declined',
  'driver_assigned',
  'picked_up',
  'delivered',
  'cancelled',
  // Between the two: the refund is reserved (its key on the payment), the provider not yet confirmed.
  'refunding',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const orderStatus = pgEnum('order_status', ORDER_STATUSES);
export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export const paymentStatus = pgEnum('payment_status', PAYMENT_STATUSES);

/** Why an order ended `refunded` (its statusReason then): the four ways a paid order can fail to be delivered. */
export const REFUND_REASONS = ['declined', 'restaurant_timeout', 'no_driver', 'customer_cancel'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const customers = pgTable('customers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  createdAt: createdAt(),
});

export const restaurants = pgTable('restaurants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  cuisine: text('cuisine').notNull(),
  address: text('address').notNull(),
  createdAt: createdAt(),
});

export const menuItems = pgTable(
  'menu_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    restaurantId: uuid('restaurant_id')
      .notNull()
      .references(() => restaurants.id),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    priceCents: integer('price_cents').notNull(),
    available: boolean('available').notNull().default(true),
  },
  (t) => [index('menu_items_restaurant_idx').on(t.restaurantId), check('menu_items_price_nonneg', sql`${t.priceCents} >= 0`)],
);

export const drivers = pgTable('drivers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  available: boolean('available').notNull().default(true),
  createdAt: createdAt(),
});

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    restaurantId: uuid('restaurant_id')
      .notNull()
      .references(() => restaurants.id),
    driverId: uuid('driver_id').references(() => drivers.id),
    status: orderStatus('status').notNull().default('placed'),
    totalCents: integer('total_cents').notNull(),
    deliveryAddress: text('delivery_address').notNull(),
    /**
     * Why the order was rejected, declined (the restaurant's words, or restaurant_timeout), cancelled
     * (customer_cancel) or its payment failed; on a refunded order one of REFUND_REASONS.
     */
    statusReason: text('status_reason'),
    /** Bumped on every change; lets clients order the states they see. */
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('orders_customer_idx').on(t.customerId, t.createdAt.desc(), t.id.desc()),
    index('orders_restaurant_idx').on(t.restaurantId, t.createdAt.desc()),
    index('orders_driver_idx').on(t.driverId),
    check('orders_total_nonneg', sql`${t.totalCents} >= 0`),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    menuItemId: uuid('menu_item_id')
      .notNull()
      .references(() => menuItems.id),
    /** Name and price are copied at order time: a later menu edit must not rewrite history. */
    name: text('name').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
  },
  (t) => [index('order_items_order_idx').on(t.orderId), check('order_items_quantity_pos', sql`${t.quantity} > 0`)],
);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    amountCents: integer('amount_cents').notNull(),
    status: paymentStatus('status').notNull().default('pending'),
    providerRef: text('provider_ref'),
    failureReason: text('failure_reason'),
    /** The provider's refund of this charge, once refunded. */
    refundProviderRef: text('refund_provider_ref'),
    /**
     * The idempotency key of the refund (the refund step's id): set when the refund is reserved (the order
     * `refunding`, this payment still succeeded), kept once it is recorded; a second write-back with it is refused.
     */
    refundKey: text('refund_key'),
    refundedAt: timestamp('refunded_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('payments_order_idx').on(t.orderId),
    // At most one charge in flight per order: a double payOrder can't start two.
    uniqueIndex('payments_one_pending_uq').on(t.orderId).where(sql`${t.status} = 'pending'`),
    uniqueIndex('payments_refund_key_uq').on(t.refundKey),
  ],
);

export const driverAssignments = pgTable(
  'driver_assignments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    driverId: uuid('driver_id')
      .notNull()
      .references(() => drivers.id),
    assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('driver_assignments_order_uq').on(t.orderId), index('driver_assignments_driver_idx').on(t.driverId)],
);

export type Customer = typeof customers.$inferSelect;
export type Restaurant = typeof restaurants.$inferSelect;
export type MenuItem = typeof menuItems.$inferSelect;
export type Driver = typeof drivers.$inferSelect;
export type Order = typeof orders.$inferSelect;
export type OrderItem = typeof orderItems.$inferSelect;
export type Payment = typeof payments.$inferSelect;
export type DriverAssignment = typeof driverAssignments.$inferSelect;
