/**
 * Every business-logic function of the food-delivery flow, in flow order.
 */
import type { Handler } from '../../../kit/index.js';
import { assignDriver } from './assignDriver.js';
import { chargePayment } from './chargePayment.js';
import { validateOrder } from './validateOrder.js';

export { assignDriver, chargePayment, validateOrder };

export const allHandlers: readonly Handler[] = [validateOrder, chargePayment, assignDriver];
