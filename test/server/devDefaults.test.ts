/**
 * Safe defaults for a developer's machine: every process binds loopback
 * unless HOST says otherwise, and the demo's token route (admin tokens for
 * whoever asks) answers loopback clients only unless DEMO_TOKENS_REMOTE=true.
 * Remote clients are played by this machine's own non-loopback address.
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/engine/config.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

/** An address of this machine other than loopback; requests to it come from it. */
const EXTERNAL = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

let db: TestDatabase;
const processes: CommandProcess[] = [];

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await Promise.all(processes.map((proc) => stopProcess(proc)));
  await db?.drop();
});

/** `start` as a developer runs it (demo on, no dispatcher), with `env` on top; resolves with its port and logged URL. */
async function startApi(env: Record<string, string>): Promise<{ port: number; url: string }> {
  const proc = runCommand(['start'], {
    DATABASE_URL: urlFor(db.name),
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_SECRET,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ALL_IN_ONE: 'false',
    SEED_DEMO_DATA: 'false',
    ...env,
  });
  processes.push(proc);
  const url = new URL(String((await proc.waitForLog((l) => l.msg === 'api listening', 60_000)).url));
  return { port: Number(url.port), url: url.origin };
}

function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HOST', () => {
  it('defaults to loopback in every mode', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(parseConfig({ NODE_ENV, AUTH_JWT_SECRET: TEST_SECRET }).HOST, NODE_ENV).toBe('127.0.0.1');
    }
  });

  it('binds the API to 127.0.0.1 when unset: unreachable from another interface', { timeout: 90_000 }, async () => {
    const api = await startApi({});
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect((await get('127.0.0.1', api.port, '/healthz')).status).toBe(200);
    if (!EXTERNAL) return console.warn('no non-loopback IPv4 interface: the remote half of this test is skipped');
    await expect(get(EXTERNAL, api.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('/demo/tokens', () => {
  let listensEverywhere: { port: number };
  let optedIn: { port: number };
  beforeAll(async () => {
    [listensEverywhere, optedIn] = await Promise.all([startApi({ HOST: '0.0.0.0' }), startApi({ HOST: '0.0.0.0', DEMO_TOKENS_REMOTE: 'true' })]);
  }, 90_000);

  it('answers a loopback client', async () => {
    const res = await get('127.0.0.1', listensEverywhere.port, '/demo/tokens');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('admin.token');
  });

  it('refuses any other client, in one line saying how to allow it; the page itself is still served', async () => {
    if (!EXTERNAL) return console.warn('no non-loopback IPv4 interface: skipped');
    const res = await get(EXTERNAL, listensEverywhere.port, '/demo/tokens');
    expect(res.status).toBe(403);
    expect(res.body).toBe('Demo tokens are served to loopback clients only; set DEMO_TOKENS_REMOTE=true to serve them to any client');
    expect(res.body).not.toMatch(/eyJ/);
    expect((await get(EXTERNAL, listensEverywhere.port, '/demo/')).status).toBe(200);
  });

  it('answers any client with DEMO_TOKENS_REMOTE=true', async () => {
    if (!EXTERNAL) return console.warn('no non-loopback IPv4 interface: skipped');
    const res = await get(EXTERNAL, optedIn.port, '/demo/tokens');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('admin.token');
  });
});
