/**
 * What an app brings to the engine, and all the engine asks of one: its own
 * migrations (with their own history), the triggers that reach its handler
 * functions, and optional demo conveniences. Its GraphQL types register on
 * the one Pothos builder when its module is imported, so a process that
 * never loads an app serves only the engine's admin API and `events` stream.
 */
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { MigrationSet } from './db/migrate.js';
import type { InProcessHandler, TriggerDefinition } from './events/triggers/triggerDefinition.js';
import type { Logger } from './log.js';
import type { AppTopics } from './realtime/topics.js';
import type { ExtraRoute } from './server/http.js';
import type { WorkflowDefinition } from './workflows/definition.js';

/** How the dispatcher reaches an app's functions: deployed webhooks, or called in its own process (development). */
export type HandlerMode = 'webhook' | 'inProcess';

/** What an app's in-process handlers need to write back through the API (the kit's toInProcess takes the same). */
export interface InProcessOptions {
  apiUrl: string;
  serviceToken: string;
  log?: Logger;
}

/**
 * `H` is the app's handler function type (the kit's `Handler`): the engine
 * never calls them, the composition root serves them (`npm run handlers`).
 */
export interface App<H = unknown> {
  name: string;
  /**
   * The roles the app adds to the engine's `service` and `admin` (e.g. customer): a token
   * must carry one of them or of the engine's, and `authScopes: { role }` names them.
   */
  roles: readonly string[];
  migrations: MigrationSet;
  /** The handler functions `npm run handlers` serves. */
  handlers: readonly H[];
  /** The event triggers that drive `handlers`, reached as `mode` says. */
  triggers(mode: HandlerMode): TriggerDefinition[];
  /**
   * The workflows the app declares (docs/workflows.md), their handlers reached as `mode` says; synced with the
   * triggers at dispatcher start. Their in-process targets come from `inProcessHandlers` too.
   */
  workflows?(mode: HandlerMode): WorkflowDefinition[];
  /** The in-process targets named by `triggers('inProcess')` (and by `workflows('inProcess')`). */
  inProcessHandlers(opts: InProcessOptions): Record<string, InProcessHandler>;
  /** Extra hub topics for an event (e.g. `restaurant:<id>` from an order's payload), besides `*` and `<aggregateType>:<aggregateId>`; passed on unbound. */
  topicsOf?: AppTopics;
  /** Loads demo data; safe to run again. */
  seed?(db: Db): Promise<Record<string, number>>;
  /** True when the app holds no data yet: `start` seeds it then, in development. */
  isEmpty?(db: Db): Promise<boolean>;
  /** Extra HTTP routes (the web demo), or undefined when the config turns them off. */
  routes?(config: Config, log: Logger): ExtraRoute | undefined;
}
