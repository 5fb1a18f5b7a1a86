/**
 * `token`: mints a JWT the API accepts, for a seeded demo user found by name,
 * and refuses clearly when there is no such user or role. The roles are the
 * engine's and the loaded app's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../src/apps/food-delivery/db/seedDemoData.js';
import { foodDelivery } from '../../src/apps/food-delivery/index.js';
import { createAuthenticator } from '../../src/engine/server/auth.js';
import { testConfig, TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { runCommand } from '../support/processes.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  await seedDemoData(db.db);
});
afterAll(async () => {
  await db.drop();
});

const env = () => ({ DATABASE_URL: urlFor(db.name), AUTH_JWT_SECRET: TEST_SECRET, NODE_ENV: 'test', LOG_LEVEL: 'silent' });

describe('token command', () => {
  it('mints a token the API verifies, for a demo user found by name', async () => {
    const proc = runCommand(['token', 'customer', 'alice'], env());
    expect((await proc.exited).code).toBe(0);
    const jwt = String(proc.logs.at(-1)?.raw ?? '');
    const viewer = await createAuthenticator(testConfig(), foodDelivery.roles).verify(jwt);
    expect(viewer).toEqual({ role: 'customer', sub: '00000000-0000-4000-8000-000100000001', expiresAt: expect.any(Number) as number });
    expect(proc.stderr()).toContain('token for customer "Alice Martin"');
  });

  it('says so in one line when no such user exists, naming some that do', async () => {
    const proc = runCommand(['token', 'driver', 'nobody'], env());
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toBe('threefactor: no driver named "nobody" found; some that exist: Dana Rider, Eli Wheels, Fay Swift');
  });

  it('refuses an unknown role with the usage line', async () => {
    const proc = runCommand(['token', 'superuser'], env());
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toBe('threefactor: usage: token <customer|restaurant|driver|service|admin> [name-or-id] [--ttl 12h]');
  });

  it("offers the engine's roles only when no app is loaded", async () => {
    const proc = runCommand(['token', 'customer'], { ...env(), APP: 'none' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toBe('threefactor: usage: token <service|admin> [name-or-id] [--ttl 12h]');
  });

  it('mints an engine role without a database lookup', async () => {
    const proc = runCommand(['token', 'service', 'payment-handler'], { ...env(), APP: 'none' });
    expect((await proc.exited).code).toBe(0);
    const viewer = await createAuthenticator(testConfig(), []).verify(String(proc.logs.at(-1)?.raw ?? ''));
    expect(viewer).toMatchObject({ role: 'service', sub: 'payment-handler' });
  });
});
