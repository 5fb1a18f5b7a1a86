/**
 * Restaurants and their menus: read-only catalogue, visible to every
 * authenticated role. Adds `Order.restaurant`. Menus and an order's
 * restaurant load in one batched query per request.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { builder, uuid } from '../../../engine/index.js';
import { menuItems, restaurants, type MenuItem, type Restaurant } from '../db/schema.js';
import { OrderRef } from './order.js';

export const MenuItemRef = builder.objectRef<MenuItem>('MenuItem').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    priceCents: t.exposeInt('priceCents'),
    available: t.exposeBoolean('available'),
  }),
});

export const RestaurantRef = builder.objectRef<Restaurant>('Restaurant');

RestaurantRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    cuisine: t.exposeString('cuisine'),
    address: t.exposeString('address'),
    menu: t.loadableList({
      type: MenuItemRef,
      resolve: (restaurant) => restaurant.id,
      load: async (ids: string[], ctx) => {
        const rows = await ctx.database.db
          .select()
          .from(menuItems)
          .where(inArray(menuItems.restaurantId, ids))
          .orderBy(asc(menuItems.name));
        return ids.map((id) => rows.filter((r) => r.restaurantId === id));
      },
    }),
  }),
});

builder.queryFields((t) => ({
  restaurants: t.field({
    type: [RestaurantRef],
    description: 'Every restaurant, with its menu.',
    resolve: (_root, _args, ctx) => ctx.database.db.select().from(restaurants).orderBy(asc(restaurants.name)),
  }),
  restaurant: t.field({
    type: RestaurantRef,
    nullable: true,
    args: { id: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { id }, ctx) => {
      const [row] = await ctx.database.db.select().from(restaurants).where(eq(restaurants.id, String(id)));
      return row ?? null;
    },
  }),
}));

builder.objectField(OrderRef, 'restaurant', (t) =>
  t.loadable({
    type: RestaurantRef,
    resolve: (order) => order.restaurantId,
    load: async (ids: string[], ctx) => {
      const rows = await ctx.database.db.select().from(restaurants).where(inArray(restaurants.id, ids));
      return ids.map((id) => rows.find((r) => r.id === id) ?? new Error(`Restaurant ${id} is missing`));
    },
  }),
);
