/**
 * The event triggers that drive the broker's handler functions, and how any
 * function (a trigger's or a workflow step's) is reached: as a webhook whose
 * URL comes from env (`VALIDATE_ORDER_URL`, `CHARGE_PAYMENT_URL`, and for the
 * steps `DECLINE_UNANSWERED_URL`, `ASSIGN_DRIVER_URL`, `REFUND_PAYMENT_URL`:
 * deployed separately), or in-process (`start` in development: one process
 * runs everything). One order's events reach a function in commit order
 * ('aggregate').
 */
import type { HandlerMode, InProcessHandler, RetryPolicy, TriggerDefinition, TriggerTarget } from '../../../engine/index.js';
import { allHandlers, chargePayment, triggeredHandlers, validateOrder } from './index.js';
import type { Handler } from '../../../kit/defineHandler.js';
import { toInProcess, type InProcessOptions } from '../../../kit/inProcess.js';

/** The env variable holding a function's webhook URL: validate-order → VALIDATE_ORDER_URL. */
export const urlEnvFor = (name: string): string => `${name.toUpperCase().replace(/-/g, '_')}_URL`;

export const QUICK: RetryPolicy = { numRetries: 8, intervalSec: 2, maxIntervalSec: 120, timeoutSec: 15 };

const RETRY = new Map<Handler, RetryPolicy>([
  [validateOrder, QUICK],
  [chargePayment, QUICK],
]);

export function handlerTriggers(mode: HandlerMode): TriggerDefinition[] {
  return triggeredHandlers.map((handler) => ({
    name: handler.name,
    match: { kind: 'event', types: [...handler.on] },
    target: targetFor(handler, mode),
    retry: RETRY.get(handler) ?? QUICK,
    orderingKey: 'aggregate',
  }));
}

export function targetFor(handler: Handler, mode: HandlerMode): TriggerTarget {
  return mode === 'webhook' ? { kind: 'webhookFromEnv', env: urlEnvFor(handler.name) } : { kind: 'inProcess', handler: handler.name };
}

/** The in-process targets named by `handlerTriggers('inProcess')` and the workflows' handlers, for the dispatcher's registry. */
export function inProcessHandlers(opts: InProcessOptions): Record<string, InProcessHandler> {
  return Object.fromEntries(allHandlers.map((handler) => [handler.name, toInProcess(handler, opts)]));
}
