/**
 * Which app a process runs, by the `APP` variable: `food-delivery` (the
 * reference domain, the default) or `none` (the engine alone: no domain
 * tables, no domain triggers, no domain GraphQL). An app's module is loaded
 * only when chosen.
 */
import type { App } from './app.js';

export const APP_NAMES = ['none', 'food-delivery'] as const;
export type AppName = (typeof APP_NAMES)[number];

export async function loadApp(name: AppName): Promise<App | undefined> {
  switch (name) {
    case 'none':
      return undefined;
    case 'food-delivery':
      return (await import('./foodDelivery.js')).foodDelivery;
  }
}
