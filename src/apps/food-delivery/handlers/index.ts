/**
 * Every business-logic function of the food-delivery flow, in flow order:
 * the broker's triggers (validate-order, charge-payment) and the order
 * workflow's steps (decline-unanswered, assign-driver, refund-payment).
 */
import type { Handler } from '../../../kit/index.js';
import { assignDriver } from './assignDriver.js';
import { chargePayment } from './chargePayment.js';
import { declineUnanswered } from './declineUnanswered.js';
import { refundPayment } from './refundPayment.js';
import { validateOrder } from './validateOrder.js';

export { assignDriver, chargePayment, declineUnanswered, refundPayment, validateOrder };

/** The functions the broker reaches through triggers of their own. */
export const triggeredHandlers: readonly Handler[] = [validateOrder, chargePayment];

/** The functions workflow steps call. */
export const stepHandlers: readonly Handler[] = [declineUnanswered, assignDriver, refundPayment];

export const allHandlers: readonly Handler[] = [...triggeredHandlers, ...stepHandlers];
