/**
 * Which app a process runs, by the `APP` variable: `food-delivery` (the
 * reference domain, the default) or `none` (the engine alone: no domain
 * tables, no domain triggers, no domain GraphQL). An app's module is loaded
 * only when chosen.
 */
import type { App } from '../engine/app.js';
import type { Handler } from '../kit/defineHandler.js';
import { fail } from '../engine/commands/runtime.js';

const APPS: Record<string, () => Promise<App<Handler> | undefined>> = {
  none: async () => undefined,
  'food-delivery': async () => (await import('../apps/food-delivery/index.js')).foodDelivery,
};

/** The app named by APP; an unknown name stops the process with one line. */
export async function loadApp(name: string): Promise<App<Handler> | undefined> {
  const load = APPS[name];
  if (!load) fail(`config: APP must be one of ${Object.keys(APPS).join(', ')}`);
  return load();
}
