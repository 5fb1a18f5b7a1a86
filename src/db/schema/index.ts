/** All tables, for drizzle-kit and the drizzle client. */
export * from './domain.js';
export * from './events.js';
export * from './delivery.js';
