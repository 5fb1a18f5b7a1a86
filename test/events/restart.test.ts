/**
 * The database restarts under load: a dedicated embedded PostgreSQL is
 * stopped mid-delivery and started again on the same port. The dispatcher
 * is not restarted: it buffers outcomes it cannot write, reconnects, re-LISTENs,
 * catches up, and delivers everything, including events written after the
 * restart. Polling is set to a minute, so only the reconnect path can do it.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/engine/db/client.js';
import { ensureDatabase } from '../../src/engine/db/database.js';
import { startEmbedded, type EmbeddedServer } from '../../src/engine/db/embedded.js';
import { createServer } from 'node:net';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { ENGINE_MIGRATIONS, runMigrations } from '../../src/engine/db/migrate.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { createLogger } from '../../src/engine/log.js';
import { TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';

let dir: string;
let port: number;
let server: EmbeddedServer;
let database: Database;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;
const quiet = createLogger('warn');

beforeAll(async () => {
  // Beside the suite's embedded server: a directory the postgres user (when running as root) can enter.
  dir = `.test-data/restart-${process.pid}-${randomBytes(3).toString('hex')}`;
  port = await portOutsideEphemeralRange();
  server = await startEmbedded(dir, quiet, { port });
  await ensureDatabase(server.adminUrl, 'restart');
  await runMigrations(server.urlFor('restart'), [ENGINE_MIGRATIONS, foodDeliveryMigrations]);
  database = connect(server.urlFor('restart'), { max: 4 });
  receiver = await startReceiver(() => ({ status: 200, delayMs: 10 }));
}, 60_000);
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await database?.close(1);
  await receiver?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The server must come back on the same port while it is down. A port from
 * the ephemeral range could meanwhile be handed to any socket bound to port
 * 0 (other test files run servers in parallel), so pick one below it.
 */
async function portOutsideEphemeralRange(): Promise<number> {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(candidate, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
}

async function insertEvents(type: string, count: number): Promise<void> {
  await database.sql`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
    select ${type}, 'test', n::text, jsonb_build_object('n', n) from generate_series(1, ${count}) as n`;
}

describe('database restart under load', () => {
  it('resumes delivery without restarting the dispatcher', async () => {
    dispatcher = await startDispatcher({
      database,
      log: testLog(),
      webhookSecret: TEST_WEBHOOK_SECRET,
      pollMs: 60_000,
      concurrency: 4,
      batchSize: 4,
      triggers: [{ name: 'all', match: { kind: 'event', types: ['load.*'] }, target: { kind: 'webhook', url: `${receiver.url}/all` }, retry: { numRetries: 3, intervalSec: 0.1 } }],
    });
    const distinct = () => new Set(receiver.requests.map((r) => r.json.id)).size;
    await insertEvents('load.before', 200);
    await waitFor('some deliveries', () => distinct() >= 20);

    await server.stop();
    const during = distinct();
    expect(during).toBeLessThan(200);
    server = await startEmbedded(dir, quiet, { port });

    await waitFor('every event from before the restart', () => distinct() === 200, 30_000);
    // Written after the restart: reaches the dispatcher through its re-established LISTEN.
    await insertEvents('load.after', 50);
    await waitFor('the events from after the restart', () => distinct() === 250, 30_000);
    await waitFor('every outcome recorded', async () => {
      const [r] = await database.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = 'delivered'`;
      return r!.n === 250;
    });
  }, 90_000);
});
