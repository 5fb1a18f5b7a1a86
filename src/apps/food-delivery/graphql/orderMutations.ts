/**
 * The Order's mutations, a thin edge over domain/: placing an order
 * (placeOrder), the service's write-backs (recordOrderValidation,
 * assignDriver), the restaurant's approval or decline, the customer's
 * cancel, and the assigned driver's pick-up and delivery. Paying is paymentMutations. Each checks its
 * arguments, calls the rule of the same name and maps its refusals.
 */
import { builder, reason, uuid } from '../../../engine/index.js';
import { assignDriver } from '../domain/driverAssignment.js';
import { approveOrder, cancelOrder, declineOrder, deliverOrder, orderValidationInput, pickUpOrder, recordOrderValidation } from '../domain/orderSteps.js';
import { MAX_ADDRESS_LENGTH, MAX_ORDER_LINES, MAX_QUANTITY, placeOrder, placeOrderInput } from '../domain/placeOrder.js';
import { fromDomain } from './errors.js';
import { OrderRef } from './order.js';

const OrderItemInput = builder.inputType('OrderItemInput', {
  fields: (t) => ({
    menuItemId: t.id(),
    quantity: t.int({ description: `1 to ${MAX_QUANTITY}.` }),
  }),
});

const PlaceOrderInputRef = builder
  .inputType('PlaceOrderInput', {
    fields: (t) => ({
      restaurantId: t.id(),
      items: t.field({ type: [OrderItemInput], description: `1 to ${MAX_ORDER_LINES} lines, each menu item once.` }),
      deliveryAddress: t.string({ description: `1 to ${MAX_ADDRESS_LENGTH} characters.` }),
    }),
  })
  .validate(placeOrderInput);

builder.mutationFields((t) => ({
  placeOrder: t.field({
    type: OrderRef,
    description: 'Place an order (customer). Writes order.placed.',
    authScopes: { role: 'customer' },
    args: { input: t.arg({ type: PlaceOrderInputRef }) },
    resolve: (_root, { input }, ctx) => fromDomain(() => placeOrder(ctx, input), { inputArg: 'input' }),
  }),

  recordOrderValidation: t.field({
    type: OrderRef,
    description: 'Service write-back of the order check: placed → validated, or → rejected with a reason.',
    authScopes: { role: 'service' },
    args: {
      orderId: t.arg.id({ validate: uuid }),
      valid: t.arg.boolean(),
      reason: t.arg.string({ required: false, validate: reason.nullish() }),
    },
    validate: orderValidationInput,
    resolve: (_root, args, ctx) => fromDomain(() => recordOrderValidation(ctx, args)),
  }),

  approveOrder: t.field({
    type: OrderRef,
    description: 'The restaurant accepts a paid order.',
    authScopes: { role: 'restaurant' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => fromDomain(() => approveOrder(ctx, orderId)),
  }),

  declineOrder: t.field({
    type: OrderRef,
    description:
      'The restaurant refuses a paid order, saying why; or the service does, with reason restaurant_timeout, when the restaurant never answered. Writes order.declined; the order workflow then refunds.',
    authScopes: { role: ['restaurant', 'service'] },
    args: { orderId: t.arg.id({ validate: uuid }), reason: t.arg.string({ validate: reason }) },
    resolve: (_root, { orderId, reason: why }, ctx) => fromDomain(() => declineOrder(ctx, orderId, why)),
  }),

  cancelOrder: t.field({
    type: OrderRef,
    description:
      'The customer calls off their own order before the restaurant approved it (placed, validated, payment_failed or paid). Writes order.cancelled; a paid one, or one whose charge lands later, is refunded.',
    authScopes: { role: 'customer' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => fromDomain(() => cancelOrder(ctx, orderId)),
  }),

  assignDriver: t.field({
    type: OrderRef,
    description: 'Service write-back: an available driver takes an approved order.',
    authScopes: { role: 'service' },
    args: { orderId: t.arg.id({ validate: uuid }), driverId: t.arg.id({ validate: uuid }) },
    resolve: (_root, args, ctx) => fromDomain(() => assignDriver(ctx, args)),
  }),

  pickUpOrder: t.field({
    type: OrderRef,
    description: 'The assigned driver has the food.',
    authScopes: { role: 'driver' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => fromDomain(() => pickUpOrder(ctx, orderId)),
  }),

  deliverOrder: t.field({
    type: OrderRef,
    description: 'The assigned driver handed the food over.',
    authScopes: { role: 'driver' },
    args: { orderId: t.arg.id({ validate: uuid }) },
    resolve: (_root, { orderId }, ctx) => fromDomain(() => deliverOrder(ctx, orderId)),
  }),
}));
