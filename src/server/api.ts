/**
 * Wires the API process: schema, authenticator, yoga and the HTTP server on
 * one database. Used by the `start` command and by tests, so both run the
 * same server.
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { watchDeliveryQueues } from '../events/metrics.js';
import { buildSchema } from '../graphql/schema.js';
import type { Logger } from '../log.js';
import { createAuthenticator } from './auth.js';
import { createDemoRoutes } from './demo.js';
import { createApiServer, type ApiServer } from './http.js';
import { createGraphqlHandler, type Yoga } from './yoga.js';

export interface Api extends ApiServer {
  yoga: Yoga;
}

export function createApi(config: Config, database: Database, log: Logger): Api {
  const deps = { config, schema: buildSchema(), database, auth: createAuthenticator(config), log };
  const yoga = createGraphqlHandler(deps);
  const server = createApiServer({ yoga, sql: database.sql, log, extraRoutes: createDemoRoutes(config, log) });
  // Queue-depth gauges on /metrics are read from this database on scrape.
  const unwatchQueues = watchDeliveryQueues(database.sql, log);
  server.onDrain(async () => unwatchQueues());
  return { ...server, yoga };
}
