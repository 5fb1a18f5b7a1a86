/**
 * `dispatch`: a dispatcher process. Run as many as needed against one
 * database; each claims its share of deliveries. Triggers come from the app
 * (its handler functions, reached as webhooks; none with APP=none) and from
 * TRIGGERS_FILE (Hasura metadata), synced at start. `launchDispatcher` is
 * shared with `start`, which runs the same thing in-process in all-in-one mode.
 */
import { ConfigError, type Config } from '../engine/config.js';
import type { Database } from '../engine/db/client.js';
import type { App, HandlerMode } from '../engine/app.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { startDispatcher } from '../engine/dispatcher/dispatcher.js';
import { HasuraMetadataError } from '../engine/events/triggers/hasuraMetadata.js';
import { loadTriggersFile } from '../engine/events/triggers/triggersFile.js';
import { startDispatchOperations } from '../engine/dispatcher/operations.js';
import type { InProcessHandler, TriggerDefinition } from '../engine/events/triggers/triggerDefinition.js';
import { uniqueTriggers, type DeclaredTrigger } from '../engine/events/triggers/declared.js';
import { TriggerDefinitionError } from '../engine/events/triggers/routing.js';
import type { Logger } from '../engine/log.js';
import { fail, runService, type Running } from './runtime.js';

/** The app's triggers, each labelled with where it was declared. */
export function appTriggers(app: App | undefined, mode: HandlerMode): DeclaredTrigger[] {
  return (app?.triggers(mode) ?? []).map((definition) => ({ definition, origin: `the app ${app!.name}` }));
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

export interface DispatchSetup {
  triggers: TriggerDefinition[];
  inProcessHandlers?: Record<string, InProcessHandler>;
}

/**
 * Start a dispatcher on an open database, with its operator side: metrics
 * hooks and queue gauges, /metrics on METRICS_PORT when set, and retention
 * (one process at a time, under an advisory lock). Operator errors become one
 * line and exit 2.
 */
export async function launchDispatcher(config: Config, log: Logger, database: Database, setup: DispatchSetup): Promise<Running> {
  const ops = await startDispatchOperations({ database, log, config });
  let dispatcher;
  try {
    dispatcher = await startDispatcher({
      database,
      log,
      triggers: setup.triggers,
      inProcessHandlers: setup.inProcessHandlers,
      webhookSecret: webhookSecret(config),
      batchSize: config.DISPATCH_BATCH_SIZE,
      concurrency: config.DISPATCH_CONCURRENCY,
      pollMs: config.DISPATCH_POLL_MS,
      leaseMs: config.DISPATCH_LEASE_MS,
      hooks: ops.hooks,
    });
  } catch (err) {
    await ops.stop();
    if (err instanceof TriggerDefinitionError || err instanceof ConfigError) fail(err.message);
    // undefined_table: a trigger captures a table that does not exist; the message names both.
    if ((err as { code?: string }).code === '42P01') fail((err as Error).message);
    throw err;
  }
  if (ops.metricsUrl) log.info({ url: ops.metricsUrl }, 'dispatcher metrics listening');
  return {
    async stop() {
      await dispatcher.stop({ deadlineMs: Math.max(1_000, config.SHUTDOWN_TIMEOUT_MS - 1_000) });
      await ops.stop();
    },
  };
}

export async function dispatch(): Promise<void> {
  await runService('dispatcher', async (config, log, app) => {
    let triggers: TriggerDefinition[];
    try {
      webhookSecret(config);
      triggers = await declaredTriggers(config, log, appTriggers(app, 'webhook'));
    } catch (err) {
      if (err instanceof ConfigError || err instanceof HasuraMetadataError || err instanceof TriggerDefinitionError) fail(err.message);
      throw err;
    }
    const database = await openDatabase(config, log, {
      applicationName: 'threefactor-dispatcher',
      max: Math.min(config.DATABASE_POOL_MAX, 5),
      migrations: migrationSets(app),
    });
    let dispatcher: Running;
    try {
      dispatcher = await launchDispatcher(config, log, database, { triggers });
    } catch (err) {
      await database.close();
      throw err;
    }
    return {
      async stop() {
        await dispatcher.stop();
        await database.close();
      },
    };
  });
}
