/**
 * The `handlers` command's "handlers listening" line tells the operator what
 * it bound: all interfaces (0.0.0.0) is said as such, not as 127.0.0.1, and
 * the URL it gives works; a specific address is named as bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/api.js';
import { runCommand, stopProcess, type CommandProcess } from '../support/processes.js';
import { newWebhookSecret } from '../support/webhooks.js';

let proc: CommandProcess | undefined;
afterEach(async () => {
  await stopProcess(proc, 'SIGKILL');
  proc = undefined;
});

const env = (host: string) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  HOST: host,
  HANDLERS_PORT: '0',
  AUTH_JWT_SECRET: TEST_SECRET,
  WEBHOOK_SECRET: newWebhookSecret(),
});

describe('the handlers listening line', () => {
  it('on 0.0.0.0 names the address bound (all interfaces) and a URL that answers', async () => {
    proc = runCommand(['handlers'], env('0.0.0.0'));
    const line = await proc.waitForLog((l) => l.msg === 'handlers listening', 30_000);
    const port = new URL(String(line.url)).port;
    expect(line.address).toBe(`0.0.0.0:${port}`);
    expect(line.port).toBe(Number(port));
    expect(line.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${String(line.url)}/healthz`)).status).toBe(200);
  });

  it('on a specific address names that address, in the URL too', async () => {
    proc = runCommand(['handlers'], env('127.0.0.1'));
    const line = await proc.waitForLog((l) => l.msg === 'handlers listening', 30_000);
    const port = new URL(String(line.url)).port;
    expect(line.address).toBe(`127.0.0.1:${port}`);
    expect(line.url).toBe(`http://127.0.0.1:${port}`);
  });
});
