/**
 * `token … --ttl`: the operator chooses a token's lifetime (the handlers'
 * SERVICE_TOKEN above all, which used to expire after 12 hours without a
 * word), the command says when the token expires, and a malformed lifetime
 * is one clear line.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/engine/server/auth.js';
import { testConfig, TEST_SECRET } from '../support/api.js';
import { runCommand } from '../support/processes.js';

const DAY_SEC = 86_400;
const env = { AUTH_JWT_SECRET: TEST_SECRET, NODE_ENV: 'test', LOG_LEVEL: 'silent', APP: 'none' };

async function mint(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; jwt: string; stderr: string }> {
  const proc = runCommand(['token', ...args], { ...env, ...extra });
  const { code } = await proc.exited;
  return { code, jwt: String(proc.logs.at(-1)?.raw ?? ''), stderr: proc.stderr().trim() };
}

describe('token --ttl', () => {
  it('mints a service token that lives as long as --ttl says, and says when it expires', async () => {
    const { code, jwt, stderr } = await mint(['service', 'handlers', '--ttl', '90d']);
    expect(code, stderr).toBe(0);
    const { exp, iat } = decodeJwt(jwt);
    expect(exp! - iat!).toBe(90 * DAY_SEC);
    expect(await createAuthenticator(testConfig(), []).verify(jwt)).toMatchObject({ role: 'service', sub: 'handlers' });
    expect(stderr).toBe(`token for service "handlers", expires ${new Date(exp! * 1000).toISOString()} (in 90d)`);
  });

  it('takes --ttl=<duration> before the subject too', async () => {
    const { code, jwt, stderr } = await mint(['service', '--ttl=36h']);
    expect(code, stderr).toBe(0);
    const { exp, iat, sub } = decodeJwt(jwt);
    expect(exp! - iat!).toBe(36 * 3600);
    expect(sub).toBe('service');
  });

  it('without --ttl, says a service token lasts 12h and how to choose longer', async () => {
    const { code, jwt, stderr } = await mint(['service']);
    expect(code, stderr).toBe(0);
    const { exp, iat } = decodeJwt(jwt);
    expect(exp! - iat!).toBe(12 * 3600);
    expect(stderr).toBe(
      `token for service "service", expires ${new Date(exp! * 1000).toISOString()} (in 12h); ` +
        'a SERVICE_TOKEN for the handlers should last longer: choose with --ttl, e.g. --ttl 90d',
    );
  });

  it('refuses a --ttl over the role maximum the API enforces, naming the variable', async () => {
    const service = await mint(['service', '--ttl', '400d']);
    expect(service.code).toBe(2);
    expect(service.jwt).toBe('');
    expect(service.stderr).toBe(
      'threefactor: token: --ttl 400d is over the 365d maximum for role service (AUTH_MAX_SERVICE_TOKEN_TTL); the API would refuse the token',
    );
    const admin = await mint(['admin', '--ttl', '2d']);
    expect(admin.stderr).toBe('threefactor: token: --ttl 2d is over the 1d maximum for role admin (AUTH_MAX_TOKEN_TTL); the API would refuse the token');
  });

  it('allows what a raised AUTH_MAX_SERVICE_TOKEN_TTL allows', async () => {
    const { code, jwt, stderr } = await mint(['service', '--ttl', '400d'], { AUTH_MAX_SERVICE_TOKEN_TTL: '400d' });
    expect(code, stderr).toBe(0);
    const { exp, iat } = decodeJwt(jwt);
    expect(exp! - iat!).toBe(400 * DAY_SEC);
  });

  it.each([['1y'], ['90'], ['-5d'], ['']])('refuses --ttl %j in one line, minting nothing', async (ttl) => {
    const { code, jwt, stderr } = await mint(['service', '--ttl', ttl]);
    expect(code).toBe(2);
    expect(jwt).toBe('');
    expect(stderr).toBe('threefactor: token: --ttl must be a duration such as 90s, 15m, 12h or 90d');
  });
});
