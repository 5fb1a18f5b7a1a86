/**
 * What this app's step handlers read of a workflow step: the input, which
 * is the payload of the event that started the instance (order.paid,
 * payment.captured_after_cancel): an order event, so it names the order.
 */
import { z } from 'zod';

export const orderInput = z.looseObject({ orderId: z.uuid() });
