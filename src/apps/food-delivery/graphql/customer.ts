/**
 * Customer: who placed an order. Adds `Order.customer`. The e-mail address
 * is shown only as domain/customerAccess allows.
 */
import { inArray } from 'drizzle-orm';
import { customers, type Customer } from '../db/schema.js';
import { builder } from '../../../engine/index.js';
import { canReadEmail } from '../domain/customerAccess.js';
import { OrderRef } from './order.js';

export const CustomerRef = builder.objectRef<Customer>('Customer').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    email: t.string({
      nullable: true,
      description: 'Null unless you are this customer, the service or an admin.',
      resolve: (customer, _args, ctx) => (canReadEmail(ctx.viewer, customer) ? customer.email : null),
    }),
  }),
});

builder.objectField(OrderRef, 'customer', (t) =>
  t.loadable({
    type: CustomerRef,
    resolve: (order) => order.customerId,
    load: async (ids: string[], ctx) => {
      const rows = await ctx.database.db.select().from(customers).where(inArray(customers.id, ids));
      return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Customer ${id} is missing`));
    },
  }),
);
