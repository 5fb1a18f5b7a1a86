/**
 * The Procfile's processes as a platform runs them: each line's command, the
 * compiled server on node alone (no TypeScript loader), in production. The
 * release step migrates an empty database and exits 0; web, dispatch and
 * handlers come up, answer (web's /readyz and its demo, found from dist/ as
 * from src/; the handlers' /healthz), and drain on SIGTERM with exit 0.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { allHandlers } from '../../src/apps/food-delivery/handlers/index.js';
import { urlEnvFor } from '../../src/apps/food-delivery/handlers/triggers.js';
import { appliedCount, ENGINE_MIGRATIONS, migrationCount } from '../../src/engine/db/migrate.js';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runBuilt, stopProcess, type CommandProcess } from '../support/processes.js';

let db: TestDatabase | undefined;
let procs: CommandProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.map((p) => stopProcess(p, 'SIGKILL')));
  procs = [];
  await db?.drop();
  db = undefined;
});

/** The Procfile's lines, by process name: the arguments after `node dist/cli/main.js`. */
function procfile(): Record<string, string[]> {
  const lines = readFileSync(new URL('../../Procfile', import.meta.url), 'utf8').trim().split('\n');
  return Object.fromEntries(
    lines.map((line) => {
      const [name, command] = line.split(/:\s+/, 2) as [string, string];
      const [node, entry, ...args] = command.split(/\s+/);
      expect([node, entry]).toEqual(['node', 'dist/cli/main.js']);
      return [name, args];
    }),
  );
}

describe('the Procfile, compiled', () => {
  it('release migrates and exits; web, dispatch and handlers serve, then drain on SIGTERM', async () => {
    db = await freshDatabase({ empty: true });
    const lines = procfile();
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: urlFor(db.name),
      AUTH_JWT_SECRET: TEST_SECRET,
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      HANDLERS_PORT: '0',
      SERVICE_TOKEN: await mintToken(TEST_SECRET, { role: 'service', sub: 'handlers' }, '1h'),
      ...Object.fromEntries(allHandlers.map((h) => [urlEnvFor(h.name), `http://127.0.0.1:9/${h.name}`])),
    };

    const release = runBuilt(lines.release!, env);
    procs.push(release);
    expect((await release.exited).code).toBe(0);
    expect(await appliedCount(db.sql, ENGINE_MIGRATIONS)).toBe(migrationCount(ENGINE_MIGRATIONS));
    expect(await appliedCount(db.sql, foodDeliveryMigrations)).toBe(migrationCount(foodDeliveryMigrations));

    // The demo is off in production unless asked for: on here, to show its files are found from dist/ too.
    const [web, dispatch, handlers] = [runBuilt(lines.web!, { ...env, DEMO: 'true' }), runBuilt(lines.dispatch!, env), runBuilt(lines.handlers!, env)];
    procs.push(web, dispatch, handlers);
    const listening = await web.waitForLog((l) => l.msg === 'api listening', 30_000);
    const base = String(listening.url).replace(/\/graphql$/, '');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const demo = await fetch(`${base}/demo/`);
    expect(demo.status).toBe(200);
    expect(await demo.text()).toContain('<script');
    await dispatch.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    const served = await handlers.waitForLog((l) => l.msg === 'handlers listening', 30_000);
    expect((await fetch(`${String(served.url)}/healthz`)).status).toBe(200);

    for (const p of [web, dispatch, handlers]) p.child.kill('SIGTERM');
    expect(await Promise.all([web, dispatch, handlers].map(async (p) => (await p.exited).code))).toEqual([0, 0, 0]);
  });
});
