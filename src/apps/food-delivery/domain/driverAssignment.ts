/**
 * Giving an approved order to a driver (the service, for the assign-driver
 * handler): the driver must exist and be available, else NOT_FOUND or
 * CONFLICT (the handler then tries the next one). The order's driver, the
 * assignment row and `order.driver_assigned` commit together.
 */
import { eq } from 'drizzle-orm';
import { withEventTransaction } from '../../../engine/index.js';
import { driverAssignments, drivers, type Order } from '../db/schema.js';
import type { Caller } from './caller.js';
import { DomainError } from './errors.js';
import { isUuid } from './orderAccess.js';
import { TRANSITIONS } from './orderLifecycle.js';
import { orderEvent, transitionOrder } from './orderTransition.js';

export async function assignDriver(caller: Caller, input: { orderId: string; driverId: string }): Promise<Order> {
  const { orderId, driverId } = input;
  if (!isUuid(driverId)) throw DomainError.notFound('Driver', driverId);
  return withEventTransaction(caller.database.db, caller.events, async ({ tx, emit }) => {
    const [driver] = await tx.select().from(drivers).where(eq(drivers.id, driverId));
    if (!driver) throw DomainError.notFound('Driver', driverId);
    if (!driver.available) throw DomainError.conflict(`Driver ${driverId} is not available`);
    const order = await transitionOrder(tx, caller.viewer, { orderId, step: 'assignDriver', operation: 'assignDriver', set: { driverId } });
    await tx.insert(driverAssignments).values({ orderId, driverId });
    await emit(orderEvent(TRANSITIONS.assignDriver.event, order));
    return order;
  });
}
