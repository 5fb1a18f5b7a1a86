/**
 * `token` on a fresh clone: no DATABASE_URL, a new data directory, so it
 * starts the embedded PostgreSQL itself. Whether it finds the user or not,
 * it stops that server before it exits, and in development its hint names
 * what seeds there (`npm start` on an empty database).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, type CommandProcess } from '../support/processes.js';

let dir: string | undefined;
let procs: CommandProcess[] = [];
/** postmaster pids seen, killed in afterEach should a test fail with one still up. */
let postmasters: number[] = [];

afterEach(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
  for (const pid of postmasters) if (alive(pid)) process.kill(pid, 'SIGQUIT');
  postmasters = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A fresh EMBEDDED_PG_DIR in a temp dir (the dev secrets land beside it, in the same temp dir). */
function freshDataDir(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'threefactor-token-'));
  // The server may run as the unprivileged `postgres` user (when tests run as root).
  chmodSync(dir, 0o755);
  return path.join(dir, 'postgres');
}

/** Runs `token` (or another command) on the data dir, watching the postmaster it starts. */
async function run(args: string[], dataDir: string): Promise<CommandProcess & { code: number | null }> {
  const proc = runCommand(args, { NODE_ENV: 'development', LOG_LEVEL: 'warn', EMBEDDED_PG_DIR: dataDir });
  procs.push(proc);
  const pidFile = path.join(dataDir, 'pgdata', 'postmaster.pid');
  const watch = setInterval(() => {
    let text: string;
    try {
      text = readFileSync(pidFile, 'utf8');
    } catch {
      // Not there yet, or already gone: the postmaster removes it as it stops, between any check and this read.
      return;
    }
    const pid = Number(text.split('\n')[0]);
    if (pid && !postmasters.includes(pid)) postmasters.push(pid);
  }, 50);
  try {
    const { code } = await proc.exited;
    return Object.assign(proc, { code });
  } finally {
    clearInterval(watch);
  }
}

function expectNoServerLeft(dataDir: string): void {
  expect(postmasters.length, 'the command started an embedded server').toBeGreaterThan(0);
  expect(postmasters.filter(alive), 'postmaster pids still alive').toEqual([]);
  expect(existsSync(path.join(dataDir, 'pgdata', 'postmaster.pid')), 'postmaster.pid left behind').toBe(false);
}

describe('token on a fresh embedded data directory', () => {
  it('finds no user on the empty database, says that npm start seeds it in development, and stops the server it started', async () => {
    const dataDir = freshDataDir();
    const proc = await run(['token', 'customer', 'alice'], dataDir);
    expect(proc.code).toBe(2);
    expectNoServerLeft(dataDir);
    expect(proc.stderr().trim().split('\n').at(-1)).toBe(
      'threefactor: no customer found: the database has no demo data yet; "npm start" loads it into an empty database, or run "npm run seed"',
    );
  }, 120_000);

  it('after a seed, mints the token and again leaves no server running', async () => {
    const dataDir = freshDataDir();
    expect((await run(['seed'], dataDir)).code).toBe(0);
    postmasters = [];
    const proc = await run(['token', 'customer', 'alice'], dataDir);
    expect(proc.code, proc.stderr()).toBe(0);
    expect(String(proc.logs.at(-1)?.raw ?? '')).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expectNoServerLeft(dataDir);
  }, 120_000);
});
