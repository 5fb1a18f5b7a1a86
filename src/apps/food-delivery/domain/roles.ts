/**
 * The roles this app adds to the engine's `service` and `admin`. For each of
 * them a token's `sub` is the id of that customer, restaurant or driver row.
 * The engine types a viewer's role as a string (it knows no app's roles);
 * `foodRole` narrows it for the rules here.
 */
import type { Viewer } from '../../../engine/index.js';

export const FOOD_ROLES = ['customer', 'restaurant', 'driver'] as const;

/** A role whose viewer is one of this app's rows. */
export type RowRole = (typeof FOOD_ROLES)[number];

/** Every role a food-delivery viewer can have. */
export type FoodRole = RowRole | 'service' | 'admin';

const ALL: readonly FoodRole[] = [...FOOD_ROLES, 'service', 'admin'];

/** The viewer's role as this app knows it; undefined for any other (which then may do nothing). */
export function foodRole(viewer: Viewer): FoodRole | undefined {
  return ALL.find((role) => role === viewer.role);
}
