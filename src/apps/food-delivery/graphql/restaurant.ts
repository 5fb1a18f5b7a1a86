/**
 * Restaurants and their menus: read-only catalogue, visible to every
 * authenticated role. Menus load in one batched query per request.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { menuItems, restaurants, type MenuItem, type Restaurant } from '../db/schema.js';
import { builder } from '../../../engine/graphql/builder.js';
import { uuid } from '../../../engine/graphql/modules/validators.js';

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
