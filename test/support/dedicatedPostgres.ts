/**
 * A PostgreSQL server of a test's own (embedded, in a temp dir, on a fixed
 * port), for tests that stop and start the server under a running API.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase } from '../../src/engine/db/database.js';
import { freePort, startEmbedded, type EmbeddedServer } from '../../src/engine/db/embedded.js';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { ENGINE_MIGRATIONS, runMigrations } from '../../src/engine/db/migrate.js';
import { createLogger } from '../../src/engine/log.js';

export interface DedicatedPostgres {
  /** URL of a migrated database on it. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop and delete the data directory. */
  destroy(): Promise<void>;
}

export async function dedicatedPostgres(): Promise<DedicatedPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'threefactor-pg-'));
  // The server may run as the unprivileged `postgres` user (when tests run as root).
  chmodSync(dir, 0o755);
  const log = createLogger('warn');
  const port = await freePort();
  let server: EmbeddedServer | undefined = await startEmbedded(dir, log, { port });
  await ensureDatabase(server.adminUrl, 'app');
  const url = server.urlFor('app');
  await runMigrations(url, [ENGINE_MIGRATIONS, foodDeliveryMigrations]);
  return {
    url,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server ??= await startEmbedded(dir, log, { port });
    },
    async destroy() {
      await server?.stop();
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
