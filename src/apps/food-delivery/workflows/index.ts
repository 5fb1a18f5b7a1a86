/**
 * The food-delivery app's workflows (the mediator half of its topology):
 * data only, reached through the same handler functions and targets as its
 * triggers.
 */
import type { HandlerMode, WorkflowDefinition } from '../../../engine/index.js';
import { orderFulfilment } from './orderFulfilment.js';
import { refundLatePayment } from './refundLatePayment.js';

export function foodDeliveryWorkflows(mode: HandlerMode): WorkflowDefinition[] {
  return [orderFulfilment(mode), refundLatePayment(mode)];
}
