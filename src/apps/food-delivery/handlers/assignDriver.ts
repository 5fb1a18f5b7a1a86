/**
 * assign-driver: on order.approved, give the order to an available driver.
 * Drivers are tried in the API's order; one who stopped being available
 * meanwhile (CONFLICT) is skipped. With nobody free the call fails with
 * RetryLater and the dispatcher tries again after a backoff. An order already
 * past `approved` (a redelivery) is left as it is.
 */
import { z } from 'zod';
import { defineHandler, RetryLater } from '../../../kit/index.js';

const AVAILABLE = /* GraphQL */ `
  query AvailableDrivers {
    drivers(available: true) { id }
  }
`;

const ASSIGN = /* GraphQL */ `
  mutation AssignDriver($orderId: ID!, $driverId: ID!) {
    assignDriver(orderId: $orderId, driverId: $driverId) { status }
  }
`;

export const assignDriver = defineHandler({
  name: 'assign-driver',
  on: ['order.approved'],
  data: z.object({ orderId: z.uuid() }),
  async handle({ data }, { graphql, apply, log }) {
    const { drivers } = await graphql<{ drivers: Array<{ id: string }> }>(AVAILABLE);
    for (const driver of drivers) {
      const result = await apply(ASSIGN, { orderId: data.orderId, driverId: driver.id });
      if (result.applied) return 'assigned';
      if (result.code === 'ILLEGAL_TRANSITION') return 'already-applied';
      log.info({ driverId: driver.id, why: result.message }, 'driver not assignable; trying the next');
    }
    throw new RetryLater('no driver is available', 30);
  },
});
