/**
 * Who sees which order and which e-mail address, as plain rules: the row
 * rule (`canViewOrder`) and its SQL form (`orderScope`) agree on every
 * order for every viewer, a role the app does not know sees nothing, and
 * the loaders refuse with DomainErrors.
 */
import { describe, expect, it } from 'vitest';
import { orders, type Order } from '../../../src/apps/food-delivery/db/schema.js';
import { canReadEmail } from '../../../src/apps/food-delivery/domain/customerAccess.js';
import { canViewOrder, findOrderFor, loadOrderFor, orderScope } from '../../../src/apps/food-delivery/domain/orderAccess.js';
import { FOOD_ROLES, foodRole } from '../../../src/apps/food-delivery/domain/roles.js';
import { foodDelivery } from '../../../src/apps/food-delivery/index.js';
import type { TestDatabase } from '../../support/db.js';
import { ids } from '../../support/orders.js';
import { callerFor, orderAt, refusal, useDomainDatabase, type Actors } from './support.js';

let db: TestDatabase;
let actors: Actors;

useDomainDatabase((database, a) => {
  db = database;
  actors = a;
});

const order = (over: Partial<Order> = {}): Order => ({
  id: '00000000-0000-4000-8000-00aa00000001',
  customerId: ids.alice,
  restaurantId: ids.napoli,
  driverId: ids.dana,
  status: 'driver_assigned',
  totalCents: 100,
  deliveryAddress: '1 Test Lane',
  statusReason: null,
  version: 6,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

describe('the roles', () => {
  it('are the app’s three, which it hands the engine; foodRole narrows a viewer’s string role', () => {
    expect(foodDelivery.roles).toEqual(['customer', 'restaurant', 'driver']);
    expect(FOOD_ROLES).toBe(foodDelivery.roles);
    expect(foodRole({ role: 'driver', sub: 'x' })).toBe('driver');
    expect(foodRole({ role: 'admin', sub: 'x' })).toBe('admin');
    expect(foodRole({ role: 'courier', sub: 'x' })).toBeUndefined();
  });
});

describe('canViewOrder', () => {
  it('customer: own; restaurant: placed with it; driver: assigned to them; service and admin: all; anyone else: none', () => {
    const o = order();
    const sees = (role: string, sub: string) => canViewOrder({ role, sub }, o);
    expect([sees('customer', ids.alice), sees('customer', ids.bob)]).toEqual([true, false]);
    expect([sees('restaurant', ids.napoli), sees('restaurant', ids.sakura)]).toEqual([true, false]);
    expect([sees('driver', ids.dana), sees('driver', ids.eli)]).toEqual([true, false]);
    expect(canViewOrder({ role: 'driver', sub: ids.dana }, order({ driverId: null }))).toBe(false);
    expect([sees('service', 'x'), sees('admin', 'x')]).toEqual([true, true]);
    // A role the app does not know, even with a matching subject.
    expect(sees('courier', ids.dana)).toBe(false);
  });

  it('orderScope selects exactly the orders canViewOrder allows, for every viewer', async () => {
    await orderAt(actors, 'driver_assigned');
    await orderAt(actors, 'placed', actors.bob);
    const all = await db.db.select().from(orders);
    const viewers = [
      ...Object.values(actors).map((a) => a.viewer),
      { role: 'customer', sub: 'not-a-uuid' },
      { role: 'courier', sub: ids.dana },
    ];
    for (const viewer of viewers) {
      const scoped = await db.db.select({ id: orders.id }).from(orders).where(orderScope(viewer));
      const allowed = all.filter((o) => canViewOrder(viewer, o)).map((o) => o.id);
      expect(scoped.map((r) => r.id).sort(), `${viewer.role} ${viewer.sub}`).toEqual(allowed.sort());
    }
  });
});

describe('loading an order for a viewer', () => {
  it('findOrderFor: the order when it is theirs, null when there is none, FORBIDDEN when it is not theirs', async () => {
    const placed = await orderAt(actors, 'placed');
    expect((await findOrderFor(actors.alice, placed.id))?.id).toBe(placed.id);
    expect(await findOrderFor(actors.alice, '00000000-0000-4000-8000-00ff00000000')).toBeNull();
    expect(await findOrderFor(actors.alice, 'not-a-uuid')).toBeNull();
    const error = await refusal(findOrderFor(actors.bob, placed.id));
    expect(error).toMatchObject({ code: 'FORBIDDEN', message: `Order ${placed.id} is not yours`, details: {} });
  });

  it('loadOrderFor: NOT_FOUND with the id when there is none', async () => {
    const missing = '00000000-0000-4000-8000-00ff00000002';
    expect(await refusal(loadOrderFor(actors.admin, missing))).toMatchObject({ code: 'NOT_FOUND', message: `Order ${missing} was not found`, details: { id: missing } });
    const placed = await orderAt(actors, 'placed');
    expect((await loadOrderFor(actors.napoli, placed.id)).id).toBe(placed.id);
    expect((await refusal(loadOrderFor(callerFor(db, 'courier', ids.dana), placed.id))).code).toBe('FORBIDDEN');
  });
});

describe("a customer's e-mail address", () => {
  it('is for the customer themself, the service and admins', () => {
    const alice = { id: ids.alice };
    expect(canReadEmail({ role: 'customer', sub: ids.alice }, alice)).toBe(true);
    expect(canReadEmail({ role: 'customer', sub: ids.bob }, alice)).toBe(false);
    expect(canReadEmail({ role: 'restaurant', sub: ids.napoli }, alice)).toBe(false);
    expect(canReadEmail({ role: 'driver', sub: ids.dana }, alice)).toBe(false);
    expect(canReadEmail({ role: 'service', sub: 'payment-handler' }, alice)).toBe(true);
    expect(canReadEmail({ role: 'admin', sub: 'ops' }, alice)).toBe(true);
  });
});
