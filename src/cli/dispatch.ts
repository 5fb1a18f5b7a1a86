/**
 * `dispatch`: a dispatcher process. Run as many as needed against one
 * database; each claims its share of deliveries. Triggers come from code (the
 * handler functions, as webhooks whose URLs come from env) and from
 * TRIGGERS_FILE (a Hasura metadata file), synced at start.
 */
import { ConfigError, type Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { startDispatcher } from '../events/dispatcher.js';
import { HasuraMetadataError, loadHasuraMetadataFile } from '../events/hasuraMetadata.js';
import type { TriggerDefinition } from '../events/triggerDefinition.js';
import { TriggerDefinitionError } from '../events/triggers/routing.js';
import { handlerTriggers } from '../handlers/triggers.js';
import { fail, runService } from './runtime.js';

/** Triggers this process declares: the Hasura file's, plus any from code passed by the caller. */
export async function declaredTriggers(config: Config, fromCode: TriggerDefinition[] = []): Promise<TriggerDefinition[]> {
  const fromFile = config.TRIGGERS_FILE ? await loadHasuraMetadataFile(config.TRIGGERS_FILE) : [];
  return [...fromCode, ...fromFile];
}

export function webhookSecret(config: Config): string {
  // Dev and test get a generated secret from loadConfig; production must set one.
  if (!config.WEBHOOK_SECRET) throw new ConfigError('config: WEBHOOK_SECRET is required (echo whsec_$(openssl rand -base64 32))');
  return config.WEBHOOK_SECRET;
}

export async function dispatch(): Promise<void> {
  await runService('dispatcher', async (config, log) => {
    let secret: string;
    let triggers: TriggerDefinition[];
    try {
      secret = webhookSecret(config);
      triggers = await declaredTriggers(config, handlerTriggers('webhook'));
    } catch (err) {
      if (err instanceof ConfigError || err instanceof HasuraMetadataError) fail(err.message);
      throw err;
    }
    const database = await openDatabase(config, log, { applicationName: 'threefactor-dispatcher', max: Math.min(config.DATABASE_POOL_MAX, 5) });
    let dispatcher;
    try {
      dispatcher = await startDispatcher({
        database,
        log,
        triggers,
        webhookSecret: secret,
        batchSize: config.DISPATCH_BATCH_SIZE,
        concurrency: config.DISPATCH_CONCURRENCY,
        pollMs: config.DISPATCH_POLL_MS,
        leaseMs: config.DISPATCH_LEASE_MS,
      });
    } catch (err) {
      await database.close();
      if (err instanceof TriggerDefinitionError) fail(err.message);
      if ((err as { code?: string }).code === '42P01') fail((err as Error).message);
      throw err;
    }
    return {
      async stop() {
        await dispatcher.stop({ deadlineMs: Math.max(1_000, config.SHUTDOWN_TIMEOUT_MS - 1_000) });
        await database.close();
      },
    };
  });
}
