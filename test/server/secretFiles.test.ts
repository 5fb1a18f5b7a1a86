/**
 * The development secrets kept beside the embedded database
 * (`dev-jwt-secret`, `dev-webhook-secret`): one that already exists and is
 * readable by group or others is still used (development must start), with
 * one warning line naming the file and the fix. A real process, real files.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

let dir: string;
let proc: CommandProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'threefactor-secrets-'));
});
afterEach(async () => {
  await stopProcess(proc);
  proc = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** `handlers` in development: it reads both dev secrets and needs no database. */
async function startHandlers(): Promise<CommandProcess> {
  proc = runCommand(['handlers'], {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    EMBEDDED_PG_DIR: path.join(dir, 'postgres'),
    HOST: '127.0.0.1',
    HANDLERS_PORT: '0',
  });
  await proc.waitForLog((l) => l.msg === 'handlers listening', 60_000);
  return proc;
}

const warnings = (p: CommandProcess) => p.stderr().split('\n').filter((l) => l.includes('warning'));

describe('pre-existing dev secret files', () => {
  it('warns once, in one line naming the file and the fix, about one readable by others', { timeout: 90_000 }, async () => {
    const jwt = path.join(dir, 'dev-jwt-secret');
    const webhook = path.join(dir, 'dev-webhook-secret');
    writeFileSync(jwt, 'a'.repeat(64));
    chmodSync(jwt, 0o644);
    writeFileSync(webhook, `whsec_${Buffer.alloc(32, 1).toString('base64')}`);
    chmodSync(webhook, 0o600);

    const p = await startHandlers();
    expect(warnings(p)).toEqual([`threefactor: warning: ${jwt} is accessible to group or others (mode 0644); run: chmod 600 ${jwt}`]);
    // Still used as is, not replaced.
    expect(statSync(jwt).mode & 0o777).toBe(0o644);
  });

  it('says nothing about files only their owner can read, including those it creates', { timeout: 150_000 }, async () => {
    const first = await startHandlers();
    expect(warnings(first)).toEqual([]);
    expect(statSync(path.join(dir, 'dev-jwt-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'dev-webhook-secret')).mode & 0o777).toBe(0o600);
    first.child.kill('SIGTERM');
    await first.exited;
    const again = await startHandlers();
    expect(warnings(again)).toEqual([]);
  });
});
