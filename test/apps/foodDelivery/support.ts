/**
 * Fixtures for the food-delivery domain's own tests: a fresh seeded database
 * per file, a `Caller` for each demo actor (no GraphQL, no HTTP: the rules are
 * called as plain functions), an order driven to a stage through those same
 * rules, and the DomainError a refused call throws.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Order } from '../../../src/apps/food-delivery/db/schema.js';
import type { Caller } from '../../../src/apps/food-delivery/domain/caller.js';
import { DomainError } from '../../../src/apps/food-delivery/domain/errors.js';
import { assignDriver } from '../../../src/apps/food-delivery/domain/driverAssignment.js';
import { approveOrder, deliverOrder, pickUpOrder, recordOrderValidation } from '../../../src/apps/food-delivery/domain/orderSteps.js';
import { payOrder, recordPaymentResult } from '../../../src/apps/food-delivery/domain/payments.js';
import { placeOrder } from '../../../src/apps/food-delivery/domain/placeOrder.js';
import type { FoodRole } from '../../../src/apps/food-delivery/domain/roles.js';
import type { Database } from '../../../src/engine/index.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ids, seeded, type Stage } from '../../support/orders.js';

/** `role` is a string: the engine's viewer type, so a test can also name a role the app does not know. */
export function callerFor(database: Database, role: FoodRole | (string & {}), sub: string): Caller {
  return {
    viewer: { role, sub },
    database,
    events: { session: { 'x-hasura-role': role, 'x-hasura-user-id': sub }, traceContext: null, eventIds: [] },
  };
}

export type Actors = Record<'alice' | 'bob' | 'napoli' | 'sakura' | 'dana' | 'eli' | 'service' | 'admin', Caller>;

export function actorsOf(db: Database): Actors {
  return {
    alice: callerFor(db, 'customer', ids.alice),
    bob: callerFor(db, 'customer', ids.bob),
    napoli: callerFor(db, 'restaurant', ids.napoli),
    sakura: callerFor(db, 'restaurant', ids.sakura),
    dana: callerFor(db, 'driver', ids.dana),
    eli: callerFor(db, 'driver', ids.eli),
    service: callerFor(db, 'service', 'payment-handler'),
    admin: callerFor(db, 'admin', 'ops'),
  };
}

/** A fresh seeded database for the file and its actors, dropped after the file even when a test fails. */
export function useDomainDatabase(bind: (db: TestDatabase, actors: Actors) => void): void {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await freshDatabase({ max: 10 });
    await seeded(db);
    bind(db, actorsOf(db));
  });
  afterAll(async () => {
    await db?.drop();
  });
}

/** Napoli's Margherita ×2 and Tiramisu ×1 (2550 cents), placed by `customer`. */
export const napoliOrder = { restaurantId: ids.napoli, deliveryAddress: '1 Test Lane', items: [{ menuItemId: ids.margherita, quantity: 2 }, { menuItemId: ids.tiramisu, quantity: 1 }] };

/** A new Napoli order of `customer` (default Alice) driven up to `stage` by the rules themselves, assigning Dana. */
export async function orderAt(actors: Actors, stage: Stage, customer: Caller = actors.alice): Promise<Order> {
  const stages: Stage[] = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];
  let order = await placeOrder(customer, napoliOrder);
  for (const next of stages.slice(1, stages.indexOf(stage) + 1)) {
    const orderId = order.id;
    if (next === 'validated') order = await recordOrderValidation(actors.service, { orderId, valid: true });
    if (next === 'paid') {
      const payment = await payOrder(customer, orderId);
      order = await recordPaymentResult(actors.service, { paymentId: payment.id, succeeded: true, providerRef: 'ch_1' });
    }
    if (next === 'approved') order = await approveOrder(actors.napoli, orderId);
    if (next === 'driver_assigned') order = await assignDriver(actors.service, { orderId, driverId: ids.dana });
    if (next === 'picked_up') order = await pickUpOrder(actors.dana, orderId);
    if (next === 'delivered') order = await deliverOrder(actors.dana, orderId);
  }
  expect(order.status).toBe(stage);
  return order;
}

/** The DomainError `work` is refused with; fails the test if it succeeds or throws anything else. */
export async function refusal(work: Promise<unknown>): Promise<DomainError> {
  const outcome = await work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a DomainError, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(DomainError);
  return outcome.error as DomainError;
}
