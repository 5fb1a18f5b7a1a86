/**
 * Driver: who carries an order. Adds `Order.driver` (null until one is
 * assigned) and `drivers`, the list the assign-driver handler picks from.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { drivers, type Driver } from '../db/schema.js';
import { builder } from '../../../engine/index.js';
import { OrderRef } from './order.js';

export const DriverRef = builder.objectRef<Driver>('Driver').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    available: t.exposeBoolean('available'),
  }),
});

builder.objectField(OrderRef, 'driver', (t) =>
  t.loadable({
    type: DriverRef,
    nullable: true,
    resolve: (order) => order.driverId,
    load: async (ids: string[], ctx) => {
      const rows = await ctx.database.db.select().from(drivers).where(inArray(drivers.id, ids));
      return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Driver ${id} is missing`));
    },
  }),
);

builder.queryField('drivers', (t) =>
  t.field({
    type: [DriverRef],
    description: 'Drivers, optionally only those (not) available, by name.',
    authScopes: { role: ['service', 'admin'] },
    args: { available: t.arg.boolean({ required: false }) },
    resolve: (_root, { available }, ctx) =>
      ctx.database.db
        .select()
        .from(drivers)
        .where(available == null ? undefined : eq(drivers.available, available))
        .orderBy(asc(drivers.name), asc(drivers.id)),
  }),
);
