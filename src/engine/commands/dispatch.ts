/**
 * `dispatch`: a dispatcher process. Run as many as needed against one
 * database; each claims its share of deliveries. Triggers come from the app
 * (its handler functions, reached as webhooks; none with APP=none) and from
 * TRIGGERS_FILE (Hasura metadata), synced at start. `dispatcherServices` is
 * shared with `start`, which runs the same services in-process in all-in-one
 * mode. Everything runs on one Runtime: started in order, stopped in reverse
 * by the SIGTERM deadline.
 */
import { ConfigError, type Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { App, HandlerMode } from '../app.js';
import { migrationSets, openDatabase } from '../db/database.js';
import { startDispatcher, type Dispatcher } from '../dispatcher/dispatcher.js';
import { describeUnsetVariables } from '../dispatcher/delivery/unsetVariables.js';
import { HasuraMetadataError } from '../events/triggers/hasuraMetadata.js';
import { loadTriggersFile } from '../events/triggers/triggersFile.js';
import { dispatchOperations } from '../dispatcher/operations.js';
import type { InProcessHandler, TriggerDefinition } from '../events/triggers/triggerDefinition.js';
import type { WorkflowDefinition } from '../workflows/definition.js';
import { uniqueTriggers, type DeclaredTrigger } from '../events/triggers/declared.js';
import { TriggerDefinitionError } from '../events/triggers/routing.js';
import { msUntil } from '../lib.js';
import type { Logger } from '../log.js';
import { closing, Runtime, type Service } from '../runtime/service.js';
import { fail, runService } from './runtime.js';

/** The app's triggers, each labelled with where it was declared. */
export function appTriggers(app: App | undefined, mode: HandlerMode): DeclaredTrigger[] {
  if (!app) return [];
  return app.triggers(mode).map((definition) => ({ definition, origin: `the app ${app.name}` }));
}

/**
 * Triggers this process declares: those from code passed by the caller, plus
 * TRIGGERS_FILE's. A name declared twice is one line naming both places.
 */
export async function declaredTriggers(config: Config, log: Logger, fromCode: DeclaredTrigger[] = []): Promise<TriggerDefinition[]> {
  const fromFile = config.TRIGGERS_FILE ? await loadTriggersFile(config.TRIGGERS_FILE, { source: config.TRIGGERS_SOURCE }) : { triggers: [], notes: [] };
  for (const note of fromFile.notes) log.warn({ file: config.TRIGGERS_FILE }, note);
  return uniqueTriggers([...fromCode, ...fromFile.triggers]);
}

export function webhookSecret(config: Config): string {
  // Dev and test get a generated secret from loadConfig; production must set one.
  if (!config.WEBHOOK_SECRET) throw new ConfigError('config: WEBHOOK_SECRET is required (echo whsec_$(openssl rand -base64 32))');
  return config.WEBHOOK_SECRET;
}

/**
 * Production would fail every delivery that reads an unset variable (a trigger's, or a workflow step's call):
 * refuse to start instead; elsewhere, warn.
 */
function refuseUnsetVariables(config: Config, log: Logger, triggers: readonly TriggerDefinition[], workflows: readonly WorkflowDefinition[]): void {
  const unset = describeUnsetVariables(triggers, process.env, workflows);
  if (!unset) return;
  if (config.NODE_ENV === 'production') throw new ConfigError(`config: dispatch needs environment variables that are unset: ${unset}`);
  log.warn(`dispatch needs environment variables that are unset: ${unset}; their deliveries fail until they are set`);
}

export interface DispatchSetup {
  triggers: TriggerDefinition[];
  /** The app's workflows (App.workflows), synced and run by the dispatcher. */
  workflows?: WorkflowDefinition[];
  inProcessHandlers?: Record<string, InProcessHandler>;
}

/** Of the shutdown deadline, the part left to the services stopped after the dispatcher (retention, metrics, the API, the database). */
const AFTER_DISPATCHER_MS = 1_000;

/**
 * The dispatch process's pool, at most: claims, completions and lease renewals are few batched
 * statements at a time (the attempts wait on HTTP, not on the database), so more connections would
 * only hold server slots. The delivery benchmark gives our side the same.
 */
export const DISPATCH_POOL_MAX = 5;

/**
 * The dispatcher with its operator side (metrics hooks and queue gauges,
 * /metrics on METRICS_PORT when set, retention: one process at a time, under
 * an advisory lock), as services of a process's Runtime. `setup` is read
 * when the dispatcher starts, so it may use what started before it (in
 * all-in-one mode, the API's address).
 */
export function dispatcherServices(config: Config, log: Logger, database: Database, setup: () => Promise<DispatchSetup>): Service[] {
  const ops = dispatchOperations({ database, log, config });
  let dispatcher: Dispatcher | undefined;
  return [
    ...ops.services,
    {
      name: 'dispatcher',
      async start() {
        const { triggers, workflows, inProcessHandlers } = await setup();
        dispatcher = await startDispatcher({
          database,
          log,
          triggers,
          workflows,
          inProcessHandlers,
          webhookSecret: webhookSecret(config),
          batchSize: config.DISPATCH_BATCH_SIZE,
          concurrency: config.DISPATCH_CONCURRENCY,
          pollMs: config.DISPATCH_POLL_MS,
          leaseMs: config.DISPATCH_LEASE_MS,
          hooks: ops.hooks,
        });
      },
      stop: async (deadline) => dispatcher?.stop({ deadlineMs: Math.max(1_000, msUntil(deadline) - AFTER_DISPATCHER_MS) }),
    },
  ];
}

/** The database pool, opened before the Runtime (migrations run first), closed last. */
export function databaseService(database: Database): Service {
  return closing('database', (deadline) => database.close(msUntil(deadline) / 1000));
}

/** Starts a process's Runtime; an operator's mistake (a trigger definition, the config, a captured table that does not exist) is one line and exit 2. */
export async function startOrFail(runtime: Runtime): Promise<Runtime> {
  try {
    await runtime.start();
  } catch (err) {
    if (err instanceof TriggerDefinitionError || err instanceof ConfigError) fail(err.message);
    // undefined_table: a trigger captures a table that does not exist; the message names both.
    if ((err as { code?: string }).code === '42P01') fail((err as Error).message);
    throw err;
  }
  return runtime;
}

export async function dispatch(app: App | undefined): Promise<void> {
  await runService('dispatcher', app, async (config, log) => {
    let triggers: TriggerDefinition[];
    let workflows: WorkflowDefinition[] | undefined;
    try {
      webhookSecret(config);
      triggers = await declaredTriggers(config, log, appTriggers(app, 'webhook'));
      workflows = app?.workflows?.('webhook');
      refuseUnsetVariables(config, log, triggers, workflows ?? []);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof HasuraMetadataError || err instanceof TriggerDefinitionError) fail(err.message);
      throw err;
    }
    const database = await openDatabase(config, log, {
      applicationName: 'threefactor-dispatcher',
      max: Math.min(config.DATABASE_POOL_MAX, DISPATCH_POOL_MAX),
      migrations: migrationSets(app),
    });
    return startOrFail(new Runtime('dispatch', [databaseService(database), ...dispatcherServices(config, log, database, async () => ({ triggers, workflows }))], log));
  });
}
