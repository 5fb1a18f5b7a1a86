/**
 * The `handlers` command as an operator runs it: config errors as one line,
 * a selection of functions by HANDLERS, and a SIGTERM drain that lets an
 * in-flight call finish its write-back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { runCommand } from '../support/processes.js';
import { newWebhookSecret } from '../support/webhooks.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

const base = { NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', HANDLERS_PORT: '0', AUTH_JWT_SECRET: TEST_SECRET };

describe('config errors', () => {
  it('production without SERVICE_TOKEN stops with one line saying how to mint one', async () => {
    const proc = runCommand(['handlers'], { ...base, NODE_ENV: 'production', WEBHOOK_SECRET: newWebhookSecret() });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim().split('\n')).toEqual(['threefactor: config: SERVICE_TOKEN is required; mint one with: npm run token -- service']);
  });

  it('a WEBHOOK_SECRET not in whsec_ form is named, and its value is not echoed', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: 'plain-secret-value' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr()).toMatch(/^threefactor: config: WEBHOOK_SECRET must be whsec_<base64>/);
    expect(proc.stderr()).not.toContain('plain-secret-value');
  });

  it('an unknown function in HANDLERS is named with the known ones', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: newWebhookSecret(), HANDLERS: 'validate-order,bake-pizza' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toBe(
      'threefactor: config: HANDLERS names unknown function "bake-pizza"; known: validate-order, charge-payment, assign-driver',
    );
  });
});

describe('the handlers process', () => {
  it('serves only the functions named in HANDLERS, and exits 0 on SIGTERM', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: newWebhookSecret(), HANDLERS: 'charge-payment, assign-driver' });
    try {
      const listening = await proc.waitForLog((l) => l.msg === 'handlers listening');
      expect(listening.handlers).toEqual(['charge-payment', 'assign-driver']);
      const health = await fetch(`${String(listening.url)}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', handlers: ['charge-payment', 'assign-driver'] });
      expect((await fetch(`${String(listening.url)}/validate-order`, { method: 'POST' })).status).toBe(404);
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});
