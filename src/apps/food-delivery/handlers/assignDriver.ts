/**
 * assign-driver: on order.approved, give the order to an available driver.
 * Drivers are tried in the API's order; one who stopped being available
 * meanwhile (CONFLICT) is skipped. With nobody free the call fails with
 * RetryLater and the dispatcher tries again after a backoff. An order already
 * past `approved` (a redelivery) is left as it is.
 */
import { z } from 'zod';
import { defineHandler, RetryLater } from '../../../kit/index.js';
import { graphql } from './gql/index.js';
import { apply, read } from './typedOperations.js';

const AVAILABLE = graphql(`
  query AvailableDrivers {
    drivers(available: true) { id }
  }
`);

const ASSIGN = graphql(`
  mutation AssignDriver($orderId: ID!, $driverId: ID!) {
    assignDriver(orderId: $orderId, driverId: $driverId) { status }
  }
`);

export const assignDriver = defineHandler({
  name: 'assign-driver',
  on: ['order.approved'],
  data: z.object({ orderId: z.uuid() }),
  async handle({ data }, tools) {
    const { drivers } = await read(tools, AVAILABLE, {});
    for (const driver of drivers) {
      const result = await apply(tools, ASSIGN, { orderId: data.orderId, driverId: driver.id });
      if (result.applied) return 'assigned';
      if (result.code === 'ILLEGAL_TRANSITION') return 'already-applied';
      tools.log.info({ driverId: driver.id, why: result.message }, 'driver not assignable; trying the next');
    }
    throw new RetryLater('no driver is available', 30);
  },
});
