/**
 * The verified-token cache: least recently used tokens leave first when it
 * is full (a busy client's token is not re-verified because 10,000 others
 * came by), and no entry outlives its token.
 * A cache hit returns the viewer verified earlier, the very same object; a
 * fresh verification builds a new one. That is what these tests observe.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET, testConfig } from '../support/api.js';

const CACHE_SIZE = 10_000;

describe('verified-token cache', () => {
  it('keeps a token in use when the cache fills up, evicting the least recently used instead', async () => {
    const auth = createAuthenticator(testConfig(), ['customer']);
    const tokens = await Promise.all(Array.from({ length: CACHE_SIZE + 1 }, (_, i) => mintToken(TEST_SECRET, { role: 'customer', sub: `c${i}` })));
    const first: Array<Awaited<ReturnType<typeof auth.verify>>> = [];
    for (const token of tokens.slice(0, CACHE_SIZE)) first.push(await auth.verify(token));
    // Full now. Two clients come back, then one more newcomer arrives.
    expect(await auth.verify(tokens[0])).toBe(first[0]);
    expect(await auth.verify(tokens[1])).toBe(first[1]);
    await auth.verify(tokens[CACHE_SIZE]);
    // They are still cached; the least recently used one (c2) was evicted and is verified afresh.
    expect(await auth.verify(tokens[0])).toBe(first[0]);
    expect(await auth.verify(tokens[1])).toBe(first[1]);
    const again = await auth.verify(tokens[2]);
    expect(again).toEqual(first[2]);
    expect(again).not.toBe(first[2]);
  });

  it('never serves a token past its own expiry', async () => {
    const auth = createAuthenticator(testConfig(), ['customer']);
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await new SignJWT({ role: 'customer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('brief')
      .setIssuedAt(now)
      .setExpirationTime(now + 2)
      .sign(new TextEncoder().encode(TEST_SECRET));
    await expect(auth.verify(shortLived)).resolves.toMatchObject({ sub: 'brief' });
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await expect(auth.verify(shortLived)).rejects.toThrow('Authentication failed: token is expired');
  });
});
