/**
 * assign-driver: the order workflow's step after the restaurant approved
 * (../workflows/orderFulfilment.ts; no longer a trigger of its own, so the
 * two topologies never act on one order at once): give the order, named by
 * the step's input, to an available driver. Drivers are tried in the API's
 * order; one who stopped being available meanwhile (CONFLICT) is skipped.
 * With nobody free the call fails with RetryLater and the dispatcher tries
 * again after a backoff, until the step's timeout makes the workflow refund
 * (no_driver). An order no longer `approved` is left as it is, with a
 * result that says so: `already-applied` when it has its driver (a
 * redelivery), `order-moved` when it went elsewhere (its refund reserved
 * after that timeout: refunding or refunded). The assignment is one
 * compare-and-set from `approved` in one transaction with the assignment
 * row, so a call that loses to the refund writes nothing: no driver is
 * left assigned to an order it did not get.
 */
import { defineStep, RetryLater } from '../../../kit/index.js';
import { graphql } from './gql/index.js';
import { apply, read } from './typedOperations.js';
import { orderInput } from './workflowStep.js';

const AVAILABLE = graphql(`
  query AvailableDrivers($orderId: ID!) {
    order(id: $orderId) { status }
    drivers(available: true) { id }
  }
`);

const ASSIGN = graphql(`
  mutation AssignDriver($orderId: ID!, $driverId: ID!) {
    assignDriver(orderId: $orderId, driverId: $driverId) { status }
  }
`);

/** The step's result: the driver who took the order, or what it found instead. */
export type AssignResult =
  | { outcome: 'assigned'; driverId: string }
  | { outcome: 'already-applied'; status: string }
  | { outcome: 'order-moved'; status: string | null };

/** Where an order is once a driver has it. */
const WITH_DRIVER = new Set(['driver_assigned', 'picked_up', 'delivered']);

/** Why an order that is not `approved` gets no driver: it has one, or it went elsewhere. */
function notAssignable(status: string | null): AssignResult {
  return status !== null && WITH_DRIVER.has(status) ? { outcome: 'already-applied', status } : { outcome: 'order-moved', status };
}

export const assignDriver = defineStep({
  name: 'assign-driver',
  input: orderInput,
  async handle({ input: { orderId } }, tools): Promise<AssignResult> {
    const { order, drivers } = await read(tools, AVAILABLE, { orderId });
    if (order?.status !== 'approved') return notAssignable(order?.status ?? null);
    for (const driver of drivers) {
      const result = await apply(tools, ASSIGN, { orderId, driverId: driver.id });
      if (result.applied) return { outcome: 'assigned', driverId: driver.id };
      // Moved while this ran (the refund reserved it, or a redelivery of this step assigned it): say where to.
      if (result.code === 'ILLEGAL_TRANSITION') return notAssignable((await read(tools, AVAILABLE, { orderId })).order?.status ?? null);
      tools.log.info({ driverId: driver.id, why: result.message }, 'driver not assignable; trying the next');
    }
    throw new RetryLater('no driver is available', 30);
  },
});
