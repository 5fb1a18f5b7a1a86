/**
 * A token must say when it was issued and when it expires, and live no
 * longer than its role allows: AUTH_MAX_TOKEN_TTL for people (24h by
 * default), AUTH_MAX_SERVICE_TOKEN_TTL for the `service` role (365d).
 * Lifetime is `exp - iat`; an `iat` in the future is refused too, so the
 * lifetime cannot be hidden by post-dating it.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET, testConfig, type TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';

let api: TestApi;
useTestApi({}, (env) => ({ api } = env));

const HOUR = 3600;
const DAY = 24 * HOUR;
const now = () => Math.floor(Date.now() / 1000);

/** A token with exactly these claims (a missing `iat`/`exp` is left out). */
function signed(claims: { role: string; iat?: number; exp?: number }): Promise<string> {
  const jwt = new SignJWT({ role: claims.role }).setProtectedHeader({ alg: 'HS256' }).setSubject('someone');
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
}

async function refusal(token: string): Promise<string | undefined> {
  const res = await api.gql('{ restaurants { id } }', undefined, token);
  if (res.status === 200 && !res.errors) return undefined;
  expect(res.status).toBe(401);
  expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  return res.errors?.[0]?.message;
}

describe('required claims', () => {
  it('refuses a token without exp', async () => {
    expect(await refusal(await signed({ role: 'customer', iat: now() }))).toBe('Authentication failed: token has no exp (expiry)');
  });

  it('refuses a token without iat', async () => {
    expect(await refusal(await signed({ role: 'customer', exp: now() + HOUR }))).toBe('Authentication failed: token has no iat (issued-at)');
  });

  it('refuses a token issued in the future', async () => {
    expect(await refusal(await signed({ role: 'customer', iat: now() + HOUR, exp: now() + 2 * HOUR }))).toBe('Authentication failed: token is issued in the future');
  });
});

describe('maximum lifetime', () => {
  it('accepts a person up to AUTH_MAX_TOKEN_TTL (24h) and refuses longer, whatever remains of it', async () => {
    expect(await refusal(await signed({ role: 'customer', iat: now(), exp: now() + DAY }))).toBeUndefined();
    expect(await refusal(await signed({ role: 'customer', iat: now(), exp: now() + DAY + 60 }))).toBe(
      'Authentication failed: token lifetime exceeds the 1d maximum for role customer',
    );
    // Long-lived, even though little of it is left: a leaked 10-year token is refused.
    expect(await refusal(await signed({ role: 'admin', iat: now() - 3650 * DAY, exp: now() + HOUR }))).toBe(
      'Authentication failed: token lifetime exceeds the 1d maximum for role admin',
    );
  });

  it('gives the service role AUTH_MAX_SERVICE_TOKEN_TTL (365d)', async () => {
    expect(await refusal(await mintToken(TEST_SECRET, { role: 'service', sub: 'handlers' }, '90d'))).toBeUndefined();
    expect(await refusal(await signed({ role: 'service', iat: now(), exp: now() + 365 * DAY }))).toBeUndefined();
    expect(await refusal(await signed({ role: 'service', iat: now(), exp: now() + 366 * DAY }))).toBe(
      'Authentication failed: token lifetime exceeds the 365d maximum for role service',
    );
    // A person's token may not borrow the service maximum.
    expect(await refusal(await mintToken(TEST_SECRET, { role: 'customer', sub: 'c' }, '90d'))).toMatch(/exceeds the 1d maximum/);
  });

  it('takes both maximums from the config, as durations', async () => {
    const config = testConfig({ AUTH_MAX_TOKEN_TTL: '1h', AUTH_MAX_SERVICE_TOKEN_TTL: '2d' });
    expect(config.AUTH_MAX_TOKEN_TTL).toBe(HOUR * 1000);
    expect(config.AUTH_MAX_SERVICE_TOKEN_TTL).toBe(2 * DAY * 1000);
    const auth = createAuthenticator(config, ['customer']);
    await expect(auth.verify(await mintToken(TEST_SECRET, { role: 'customer', sub: 'c' }, '1h'))).resolves.toMatchObject({ role: 'customer' });
    await expect(auth.verify(await mintToken(TEST_SECRET, { role: 'customer', sub: 'c' }, '2h'))).rejects.toThrow('exceeds the 1h maximum for role customer');
    await expect(auth.verify(await mintToken(TEST_SECRET, { role: 'service', sub: 's' }, '2d'))).resolves.toMatchObject({ role: 'service' });
    await expect(auth.verify(await mintToken(TEST_SECRET, { role: 'service', sub: 's' }, '3d'))).rejects.toThrow('exceeds the 2d maximum for role service');
  });

  it('defaults to 24h and 365d, and names the variable of a bad value', () => {
    expect(testConfig()).toMatchObject({ AUTH_MAX_TOKEN_TTL: DAY * 1000, AUTH_MAX_SERVICE_TOKEN_TTL: 365 * DAY * 1000 });
    expect(() => testConfig({ AUTH_MAX_TOKEN_TTL: 'forever' })).toThrow(/^config: AUTH_MAX_TOKEN_TTL must be a duration/);
  });

  it('mints tokens that fit: the default lifetime is within the maximum', async () => {
    expect(await refusal(await mintToken(TEST_SECRET, { role: 'customer', sub: 'c' }))).toBeUndefined();
  });
});
