/**
 * order-fulfilment: the mediator that owns an order once it is paid. It waits
 * for the restaurant (approved: on; declined or cancelled: fail; silent past
 * the approval timeout: decline-unanswered declines it, which fails the wait
 * in turn), then calls assign-driver (failing for good, or past the driver
 * timeout: fail). Failing anywhere runs the start's compensation,
 * refund-payment, which ends the order `refunded` with the reason its state
 * gives (declined, restaurant_timeout, customer_cancel; still approved:
 * no_driver), reserving it first, so an assign-driver call still in flight
 * past its timeout cannot give it a driver as well; one that got there
 * first keeps the order, unrefunded. Validation and charging stay broker
 * triggers (../handlers/triggers.ts).
 *
 * The timeouts come from env (ORDER_APPROVAL_TIMEOUT_SEC, default 300;
 * DRIVER_ASSIGNMENT_TIMEOUT_SEC, default 600) and are part of the stored
 * definition: a database whose version 1 was stored with other values is
 * refused at sync until the version is bumped.
 */
import type { HandlerMode, RetryPolicy, WorkflowDefinition } from '../../../engine/index.js';
import { assignDriver, declineUnanswered, refundPayment } from '../handlers/index.js';
import { QUICK, targetFor } from '../handlers/triggers.js';

export const ORDER_FULFILMENT = 'order-fulfilment';

/** Waiting for a free driver can take a while: retry longer and less often (the step's timeout ends it sooner). */
const PATIENT: RetryPolicy = { numRetries: 30, intervalSec: 10, maxIntervalSec: 300, timeoutSec: 15 };
/** A refund must happen: retry for a long while (about a day at the cap) before the workflow fails visibly. */
export const PERSISTENT: RetryPolicy = { numRetries: 40, intervalSec: 2, maxIntervalSec: 1800, timeoutSec: 15 };

export interface FulfilmentTimeouts {
  approvalSec: number;
  driverSec: number;
}

export function fulfilmentTimeouts(env: NodeJS.ProcessEnv = process.env): FulfilmentTimeouts {
  return {
    approvalSec: seconds(env, 'ORDER_APPROVAL_TIMEOUT_SEC', 300),
    driverSec: seconds(env, 'DRIVER_ASSIGNMENT_TIMEOUT_SEC', 600),
  };
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, got "${raw}"`);
  return value;
}

export function orderFulfilment(mode: HandlerMode, timeouts: FulfilmentTimeouts = fulfilmentTimeouts()): WorkflowDefinition {
  return {
    name: ORDER_FULFILMENT,
    version: 1,
    start: { types: ['order.paid'], key: 'aggregate', compensate: refundPayment.name },
    steps: [
      {
        name: 'await-restaurant',
        kind: 'wait',
        for: { types: ['order.approved'] },
        failOn: { types: ['order.declined', 'order.cancelled'] },
        timeoutSec: timeouts.approvalSec,
        onTimeout: declineUnanswered.name,
      },
      { name: 'assign-driver', kind: 'call', handler: assignDriver.name, timeoutSec: timeouts.driverSec },
    ],
    handlers: {
      [declineUnanswered.name]: { target: targetFor(declineUnanswered, mode), retry: QUICK },
      [assignDriver.name]: { target: targetFor(assignDriver, mode), retry: PATIENT },
      [refundPayment.name]: { target: targetFor(refundPayment, mode), retry: PERSISTENT },
    },
  };
}


