/**
 * The API as an operator runs it: config errors as one line, readiness, and
 * a clean SIGTERM drain that lets an in-flight request finish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { runCommand } from '../support/processes.js';
import { TEST_SECRET } from '../support/api.js';
import { mintToken } from '../../src/engine/server/auth.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('config errors', () => {
  it('a bad value stops the process with one line naming the variable, no stack trace', async () => {
    const proc = runCommand(['start'], { PORT: 'not-a-port', DATABASE_URL: urlFor(db.name) });
    const { code } = await proc.exited;
    expect(code).toBe(2);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^threefactor: config: PORT /);
  });

  it('production without a JWT secret names AUTH_JWT_SECRET', async () => {
    const proc = runCommand(['start'], { NODE_ENV: 'production', DATABASE_URL: urlFor(db.name) });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toMatch(/^threefactor: config: AUTH_JWT_SECRET is required/);
  });

  it('never echoes a secret value in the error', async () => {
    const proc = runCommand(['start'], { AUTH_JWT_SECRET: 'short-secret-value', DATABASE_URL: urlFor(db.name) });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr()).toMatch(/AUTH_JWT_SECRET must be at least 32 characters/);
    expect(proc.stderr()).not.toContain('short-secret-value');
  });
});

describe('the API process', () => {
  it('serves, reports ready, and drains on SIGTERM letting in-flight requests finish', async () => {
    const proc = runCommand(['start'], {
      DATABASE_URL: urlFor(db.name),
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_JWT_SECRET: TEST_SECRET,
      NODE_ENV: 'test',
    });
    try {
      const listening = await proc.waitForLog((l) => l.msg === 'api listening');
      const base = String(listening.url).replace(/\/graphql$/, '');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      // A request whose body is still arriving when SIGTERM lands: the drain
      // must wait for it and answer it, then exit 0.
      const token = await mintToken(TEST_SECRET, { role: 'admin', sub: 'admin' });
      const body = JSON.stringify({ query: '{ restaurants { id } }' });
      const { request } = await import('node:http');
      const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          proc.child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 500);
      });
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(JSON.parse(answered.text)).toEqual({ data: { restaurants: [] } });
      const { code } = await proc.exited;
      expect(code).toBe(0);
      expect(proc.logs.some((l) => l.msg === 'stopped cleanly')).toBe(true);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});
