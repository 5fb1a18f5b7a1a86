/**
 * CORS on /graphql: never credentialed (the API authenticates with a bearer
 * header, not a cookie), same-origin only by default in production,
 * CORS_ORIGINS as an allowlist, any origin (uncredentialed) by default
 * outside production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, testConfig, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const APP_ORIGIN = 'https://app.example.com';
const ADMIN_ORIGIN = 'https://admin.example.com:8443';
const FOREIGN = 'https://evil.example.net';

let db: TestDatabase;
let dev: TestApi;
let prod: TestApi;
let allowlisted: TestApi;

beforeAll(async () => {
  db = await freshDatabase();
  [dev, prod, allowlisted] = await Promise.all([
    startTestApi(db),
    startTestApi(db, { NODE_ENV: 'production' }),
    startTestApi(db, { NODE_ENV: 'production', CORS_ORIGINS: `${APP_ORIGIN}, ${ADMIN_ORIGIN}` }),
  ]);
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close(), allowlisted?.close()]);
  await db?.drop();
});

/** A browser's preflight for a POST with the Authorization header. */
const preflight = (api: TestApi, origin: string) =>
  fetch(`${api.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

/** The actual cross-origin request after the preflight. */
async function crossOrigin(api: TestApi, origin: string): Promise<Response> {
  return fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${await api.token('customer', 'c1')}` },
    body: JSON.stringify({ query: '{ restaurants { id } }' }),
  });
}

describe('CORS in production', () => {
  it('is same-origin only by default: no access-control-allow-origin for another origin', async () => {
    for (const res of [await preflight(prod, FOREIGN), await crossOrigin(prod, FOREIGN)]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('allows the CORS_ORIGINS allowlist, without credentials, and nobody else', async () => {
    for (const origin of [APP_ORIGIN, ADMIN_ORIGIN]) {
      const pre = await preflight(allowlisted, origin);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
      const res = await crossOrigin(allowlisted, origin);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toMatch(/origin/i);
    }
    for (const origin of [FOREIGN, 'null', 'https://app.example.com.evil.net', 'http://app.example.com']) {
      const res = await crossOrigin(allowlisted, origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});

describe('CORS outside production', () => {
  it('allows any origin, never with credentials', async () => {
    const pre = await preflight(dev, FOREIGN);
    expect(pre.headers.get('access-control-allow-origin')).toBe(FOREIGN);
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await crossOrigin(dev, 'http://localhost:5173');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('CORS_ORIGINS', () => {
  it('takes origins only: one line naming the variable for anything else', () => {
    expect(testConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).CORS_ORIGINS).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(testConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
    for (const bad of ['https://a.example/path', 'a.example', 'ftp://a.example', 'https://a.example/']) {
      expect(() => testConfig({ CORS_ORIGINS: bad }), bad).toThrow(/^config: CORS_ORIGINS /);
    }
  });
});
