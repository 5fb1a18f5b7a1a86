/**
 * The handlers' SERVICE_TOKEN expiring: the `handlers` process says so in its
 * log well before (warn) and once it has (error), and exposes the seconds
 * left as a gauge on its /metrics listener (METRICS_PORT), so write-backs do
 * not start failing unannounced. Tokens come from the real `token` command;
 * the kit decodes `exp` without the JWT secret. The warning window (the
 * later of 7 days and a tenth of the lifetime before expiry) is checked on
 * the kit's rule directly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/engine/db/embedded.js';
import { serviceTokenStatus } from '../../src/kit/serviceToken.js';
import { TEST_SECRET } from '../support/api.js';
import { runCommand, type CommandProcess } from '../support/processes.js';
import { newWebhookSecret } from '../support/webhooks.js';

const DAY = 86_400_000;
const GAUGE = 'threefactor_handlers_service_token_expiry_seconds';

let procs: CommandProcess[] = [];
afterEach(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
});

async function serviceToken(ttl: string): Promise<string> {
  const proc = runCommand(['token', 'service', 'handlers', '--ttl', ttl], { AUTH_JWT_SECRET: TEST_SECRET, NODE_ENV: 'test', LOG_LEVEL: 'silent', APP: 'none' });
  procs.push(proc);
  expect((await proc.exited).code, proc.stderr()).toBe(0);
  return String(proc.logs.at(-1)?.raw);
}

async function startHandlers(token: string): Promise<{ proc: CommandProcess; metrics: string }> {
  const metricsPort = await freePort();
  const proc = runCommand(['handlers'], {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    HANDLERS_PORT: '0',
    METRICS_PORT: String(metricsPort),
    AUTH_JWT_SECRET: TEST_SECRET,
    WEBHOOK_SECRET: newWebhookSecret(),
    SERVICE_TOKEN: token,
  });
  procs.push(proc);
  await proc.waitForLog((l) => l.msg === 'handlers listening', 30_000);
  return { proc, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function secondsLeft(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${GAUGE} `));
  if (!line) throw new Error(`no ${GAUGE} on /metrics`);
  return Number(line.split(' ')[1]);
}

const isWarn = (l: Record<string, unknown>) => l.level === 40 && String(l.msg).startsWith('SERVICE_TOKEN expires');
const isExpired = (l: Record<string, unknown>) => l.level === 50 && String(l.msg).startsWith('SERVICE_TOKEN has expired');

describe('the handlers process and its SERVICE_TOKEN', () => {
  it('a 90-day token: no warning, and the gauge shows about 90 days left', async () => {
    const { proc, metrics } = await startHandlers(await serviceToken('90d'));
    const left = await secondsLeft(metrics);
    expect(left).toBeGreaterThan(90 * 86_400 - 120);
    expect(left).toBeLessThanOrEqual(90 * 86_400);
    expect(proc.logs.filter((l) => isWarn(l) || isExpired(l))).toEqual([]);
  });

  it('a token about to expire: a warning at start naming when, an error once it has, and the gauge going to zero and below', async () => {
    // Long enough to outlast the start of two processes on a loaded machine.
    const { proc, metrics } = await startHandlers(await serviceToken('25s'));
    const warning = await proc.waitForLog(isWarn, 5_000);
    expect(warning.msg).toMatch(/^SERVICE_TOKEN expires in \d+s \(at \d{4}-\d\d-\d\dT[\d:.]+Z\); mint a new one: npm run token -- service --ttl 90d$/);
    const before = await secondsLeft(metrics);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(25);

    const expired = await proc.waitForLog(isExpired, 40_000);
    expect(expired.msg).toMatch(/^SERVICE_TOKEN has expired \(at .+Z\): write-backs to the API fail until it is replaced; mint a new one: npm run token -- service --ttl 90d$/);
    expect(await secondsLeft(metrics)).toBeLessThanOrEqual(0);
    // Once, not at every check.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(proc.logs.filter(isExpired)).toHaveLength(1);
    expect(proc.logs.filter(isWarn)).toHaveLength(1);
  }, 120_000);
});

describe('the warning window: from 7 days before expiry, or a tenth of the lifetime if that is longer', () => {
  const now = Date.UTC(2026, 0, 1);
  const token = (lifetimeMs: number, leftMs: number) => ({ iat: (now + leftMs - lifetimeMs) / 1000, exp: (now + leftMs) / 1000 });

  it.each([
    ['a 90-day token with 10 days left', 'valid', 90 * DAY, 10 * DAY],
    ['a 90-day token with 8.9 days left', 'expiring', 90 * DAY, 8.9 * DAY],
    ['a 30-day token with 7.5 days left', 'valid', 30 * DAY, 7.5 * DAY],
    ['a 30-day token with 6.9 days left', 'expiring', 30 * DAY, 6.9 * DAY],
    ['a 365-day token with 37 days left', 'valid', 365 * DAY, 37 * DAY],
    ['a 365-day token with 36 days left', 'expiring', 365 * DAY, 36 * DAY],
    ['a 12-hour token just minted', 'expiring', DAY / 2, DAY / 2],
    ['a token one second past its exp', 'expired', DAY, -1_000],
  ])('%s is %s', (_what, state, lifetime, left) => {
    expect(serviceTokenStatus(token(lifetime, left), now).state).toBe(state);
  });

  it('a token without exp is reported as such', () => {
    expect(serviceTokenStatus({ iat: now / 1000 }, now).state).toBe('no expiry');
  });
});
