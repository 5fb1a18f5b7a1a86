/**
 * The event triggers that drive the handler functions. Each function is
 * reached either as a webhook whose URL comes from env (`VALIDATE_ORDER_URL`,
 * `CHARGE_PAYMENT_URL`, `ASSIGN_DRIVER_URL`: deployed separately), or
 * in-process (`start` in development: one process runs everything).
 * One order's events reach a function in commit order ('aggregate').
 */
import type { HandlerMode, InProcessHandler, RetryPolicy, TriggerDefinition, TriggerTarget } from '../../../engine/index.js';
import { allHandlers, assignDriver, chargePayment, validateOrder } from './index.js';
import type { Handler } from '../../../kit/defineHandler.js';
import { toInProcess, type InProcessOptions } from '../../../kit/inProcess.js';

/** The env variable holding a function's webhook URL: validate-order → VALIDATE_ORDER_URL. */
export const urlEnvFor = (name: string): string => `${name.toUpperCase().replace(/-/g, '_')}_URL`;

const QUICK: RetryPolicy = { numRetries: 8, intervalSec: 2, maxIntervalSec: 120, timeoutSec: 15 };
/** Waiting for a free driver can take a while: retry longer and less often. */
const PATIENT: RetryPolicy = { numRetries: 30, intervalSec: 10, maxIntervalSec: 300, timeoutSec: 15 };

const RETRY = new Map<Handler, RetryPolicy>([
  [validateOrder, QUICK],
  [chargePayment, QUICK],
  [assignDriver, PATIENT],
]);

export function handlerTriggers(mode: HandlerMode): TriggerDefinition[] {
  return allHandlers.map((handler) => ({
    name: handler.name,
    match: { kind: 'event', types: [...handler.on] },
    target: targetFor(handler, mode),
    retry: RETRY.get(handler) ?? QUICK,
    orderingKey: 'aggregate',
  }));
}

function targetFor(handler: Handler, mode: HandlerMode): TriggerTarget {
  return mode === 'webhook' ? { kind: 'webhookFromEnv', env: urlEnvFor(handler.name) } : { kind: 'inProcess', handler: handler.name };
}

/** The in-process targets named by `handlerTriggers('inProcess')`, for the dispatcher's registry. */
export function inProcessHandlers(opts: InProcessOptions): Record<string, InProcessHandler> {
  return Object.fromEntries(allHandlers.map((handler) => [handler.name, toInProcess(handler, opts)]));
}
