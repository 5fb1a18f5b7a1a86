/**
 * The food-delivery app's migrations: its tables in `public`, its history
 * in drizzle.__food_delivery_migrations (never the engine's, never another
 * tool's drizzle.__drizzle_migrations). A module of its own, so migration
 * tooling can name it without loading the app's GraphQL.
 */
import { fileURLToPath } from 'node:url';
import { adoptLegacyHistory, type MigrationSet } from '../../engine/index.js';

export const foodDeliveryMigrations: MigrationSet = {
  name: 'food-delivery',
  folder: fileURLToPath(new URL('../../../drizzle/food-delivery', import.meta.url)),
  history: { schema: 'drizzle', table: '__food_delivery_migrations' },
  // The earlier layout made these tables in its first three migrations; our first is the same DDL.
  adoptHistory: adoptLegacyHistory({ marker: '20261122153527_one_pending_payment_per_order', baseline: 1 }),
};
