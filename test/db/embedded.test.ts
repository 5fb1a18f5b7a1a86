/**
 * The no-DATABASE_URL path as a newcomer meets it: the first command
 * initialises an embedded PostgreSQL in a data directory, later commands
 * reuse its data, and the process that started the server stops it on exit.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { runCommand } from '../support/processes.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL when DATABASE_URL is unset', () => {
  it('initialises once, keeps data across restarts, and stops the server on exit', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tf-embedded-'));
    dirs.push(dir);
    // Run as root, PostgreSQL runs as the `postgres` user, which must be able to reach the data dir.
    await chmod(dir, 0o755);
    const env = { EMBEDDED_PG_DIR: path.join(dir, 'pg'), AUTH_JWT_SECRET: TEST_SECRET, NODE_ENV: 'test', DATABASE_URL: undefined };
    const pidFile = path.join(dir, 'pg', 'pgdata', 'postmaster.pid');

    const seed = runCommand(['seed'], env);
    expect((await seed.exited).code).toBe(0);
    expect(seed.logs.some((l) => l.msg === 'embedded postgres: started' && l.fresh === true)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);

    const api = runCommand(['start'], { ...env, PORT: '0', HOST: '127.0.0.1' });
    try {
      const listening = await api.waitForLog((l) => l.msg === 'api listening', 30_000);
      expect(api.logs.some((l) => l.msg === 'embedded postgres: started' && l.fresh === false)).toBe(true);
      const token = await mintToken(TEST_SECRET, { role: 'customer', sub: '00000000-0000-4000-8000-000100000001' });
      const res = await fetch(String(listening.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ restaurants { name } }' }),
      });
      const body = (await res.json()) as { data: { restaurants: Array<{ name: string }> } };
      expect(body.data.restaurants.map((r) => r.name)).toEqual(['Pizzeria Napoli', 'Sakura Sushi', 'Taqueria El Sol']);
      expect(existsSync(pidFile)).toBe(true);
      api.child.kill('SIGTERM');
      expect((await api.exited).code).toBe(0);
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      api.child.kill('SIGKILL');
    }
  }, 90_000);
});
