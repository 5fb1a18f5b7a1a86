/**
 * The food-delivery reference app as the engine sees it: its tables and
 * their history, its handler functions, the triggers that drive two of them
 * (the broker) and the workflows whose steps call the rest (the mediator),
 * demo data, and the web demo. Importing this module registers its GraphQL types.
 */
import { sql } from 'drizzle-orm';
import { restaurants } from './db/schema.js';
import { seedDemoData } from './db/seedDemoData.js';
import './graphql/index.js';
import { allHandlers } from './handlers/index.js';
import { handlerTriggers, inProcessHandlers } from './handlers/triggers.js';
import { createDemoRoutes } from './demo/routes.js';
import type { App } from '../../engine/index.js';
import type { Handler } from '../../kit/defineHandler.js';
import { FOOD_ROLES } from './domain/roles.js';
import { foodDeliveryMigrations } from './migrations.js';
import { foodDeliveryWorkflows } from './workflows/index.js';
import { orderEventTopics } from './realtime.js';

export const foodDelivery: App<Handler> = {
  name: 'food-delivery',
  roles: FOOD_ROLES,
  migrations: foodDeliveryMigrations,
  handlers: allHandlers,
  triggers: handlerTriggers,
  workflows: foodDeliveryWorkflows,
  inProcessHandlers,
  topicsOf: orderEventTopics,
  seed: seedDemoData,
  async isEmpty(db) {
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(restaurants);
    return !row?.n;
  },
  routes: createDemoRoutes,
};
