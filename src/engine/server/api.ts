/**
 * Wires the API process: schema, authenticator, realtime hub, yoga (HTTP and
 * SSE), graphql-ws (WebSocket) and the HTTP server on one database. Used by
 * the `start` command and by tests, so both run the same server.
 */
import type { App } from '../app.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { migrationSets } from '../db/database.js';
import { watchDeliveryQueues } from '../dispatcher/metrics.js';
import { buildSchema } from '../graphql/schema.js';
import type { Logger } from '../log.js';
import { createRealtime, type Realtime } from '../realtime/realtime.js';
import { createAuthenticator } from './auth.js';
import { createApiServer, type ApiServer } from './http.js';
import { apiMetricsAccess } from './metrics.js';
import { attachWebSocket, type WebSocketTransport } from './ws.js';
import { createGraphqlHandler, type Yoga } from './yoga.js';

export interface Api extends ApiServer {
  yoga: Yoga;
  realtime: Realtime;
  ws: WebSocketTransport;
}

/** `app`: the loaded app whose GraphQL is registered, or undefined for the engine alone. */
export function createApi(config: Config, database: Database, log: Logger, app: App | undefined): Api {
  const realtime = createRealtime(database, log, { subscriberBuffer: config.SUBSCRIPTION_BUFFER, topicsOf: app?.topicsOf });
  const deps = { config, schema: buildSchema(), database, auth: createAuthenticator(config, app?.roles ?? []), log, realtime };
  const yoga = createGraphqlHandler(deps);
  const server = createApiServer({
    yoga,
    sql: database.sql,
    migrations: migrationSets(app),
    log,
    metrics: apiMetricsAccess(config),
    extraRoutes: app?.routes?.(config, log),
  });
  // Queue-depth gauges on /metrics are read from this database on scrape.
  const unwatchQueues = watchDeliveryQueues(database.sql, log);
  const ws = attachWebSocket({ server: server.server, yoga, deps, readiness: server.readiness, log });
  // Sockets close first (clients reconnect elsewhere and resume), then the
  // hub ends every remaining subscription, which lets SSE responses finish.
  server.onDrain(async () => {
    await ws.close();
    await realtime.close();
    unwatchQueues();
  });
  return {
    ...server,
    yoga,
    realtime,
    ws,
    async listen(port, host) {
      // Subscriptions are served only once the hub listens.
      await realtime.start();
      return server.listen(port, host);
    },
  };
}
