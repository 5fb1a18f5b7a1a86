import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { acceptedRoles } from '../../src/engine/graphql/context.js';
import { createAuthenticator, mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET, testConfig, type TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';

let api: TestApi;

useTestApi({}, (env) => ({ api } = env));

const QUERY = '{ restaurants { id } }';

describe('authentication on every operation', () => {
  it('rejects a request without a token with 401 UNAUTHENTICATED', async () => {
    const res = await api.gql(QUERY);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.message).toMatch(/Authentication required/);
  });

  it('rejects a token signed with another secret', async () => {
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-32-chars-long!!'));
    const res = await api.gql(QUERY, {}, forged);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toBe('Authentication failed: token is invalid');
  });

  it('rejects an expired token and says so', async () => {
    const expired = await new SignJWT({ role: 'customer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('c1')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const res = await api.gql(QUERY, {}, expired);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toBe('Authentication failed: token is expired');
  });

  it('rejects a token with an unknown role', async () => {
    const odd = await new SignJWT({ role: 'superuser' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    const res = await api.gql(QUERY, {}, odd);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toMatch(/role must be one of customer, restaurant, driver, service, admin/);
  });

  it('accepts a valid token', async () => {
    const res = await api.gql(QUERY, {}, await api.token('customer', '00000000-0000-4000-8000-000100000001'));
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ restaurants: [] });
  });
});

describe('roles: the engine knows service and admin, the app adds its own', () => {
  const verify = (appRoles: readonly string[], role: string) =>
    mintToken(TEST_SECRET, { role, sub: 'x' }).then((token) => createAuthenticator(testConfig(), appRoles).verify(token));

  it("accepts the app's roles and the engine's, and nothing else", async () => {
    expect(await verify(['customer', 'courier'], 'courier')).toMatchObject({ role: 'courier', sub: 'x' });
    expect(await verify(['customer', 'courier'], 'admin')).toMatchObject({ role: 'admin' });
    await expect(verify(['customer', 'courier'], 'driver')).rejects.toThrow('Authentication failed: role must be one of customer, courier, service, admin');
  });

  it('without an app, only service and admin', async () => {
    expect(await verify([], 'service')).toMatchObject({ role: 'service' });
    await expect(verify([], 'customer')).rejects.toThrow('Authentication failed: role must be one of service, admin');
  });

  it("an app can't redefine an engine role", () => {
    expect(() => acceptedRoles(['customer', 'admin'])).toThrow('app role "admin" is one of the engine\'s own (service, admin)');
  });
});

describe('health', () => {
  it('answers /healthz and /readyz when migrated', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});
