/** The engine's tables (schema `threefactor`), for drizzle-kit and the engine's queries. */
export * from './events.js';
export * from './delivery.js';
export * from './workflows.js';
