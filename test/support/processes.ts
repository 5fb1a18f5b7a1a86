/**
 * Child processes for tests: run a threefactor command on its sources
 * (`node --import tsx src/cli/main.ts …`, no build needed) or as the Procfile
 * runs it (`node dist/cli/main.js …`, the compiled server: runBuilt), collect
 * its JSON log lines, and wait for a line or for exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET } from './api.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CommandProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (stdout). */
  logs: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolve with the first log line matching, or reject after timeoutMs. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runCommand(args: string[], env: Record<string, string | undefined>): CommandProcess {
  return runEntry('src/cli/main.ts', args, env);
}

/** Any TypeScript entry point of the repository (e.g. an app's own main), run the same way. */
export function runEntry(entry: string, args: string[], env: Record<string, string | undefined>): CommandProcess {
  return spawnNode(['--import', 'tsx', path.join(ROOT, entry), ...args], env);
}

/** A command of the compiled server (dist/, `npm run build`; the tests' `pretest` builds it when stale), on node alone. */
export function runBuilt(args: string[], env: Record<string, string | undefined>): CommandProcess {
  return spawnNode([path.join(ROOT, 'dist/cli/main.js'), ...args], env);
}

function spawnNode(argv: string[], env: Record<string, string | undefined>): CommandProcess {
  // node itself, never through npm: one process, so signals reach our handlers directly.
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let err = '';
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    logs,
    stderr: () => err,
    exited,
    waitForLog(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            cleanup();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before the expected log line; stderr: ${err.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs} ms; last lines: ${JSON.stringify(logs.slice(-5))}; stderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** `start` in all-in-one mode (API, dispatcher, in-process handlers, seeded) on a test database; resolves once it all runs. `env` adds or overrides variables. */
export async function startAllInOne(databaseUrl: string, env: Record<string, string> = {}): Promise<{ proc: CommandProcess; baseUrl: string }> {
  const proc = runCommand(['start'], {
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_SECRET,
    WEBHOOK_SECRET: `whsec_${Buffer.from('all-in-one-test-webhook-secret!!').toString('base64')}`,
    ALL_IN_ONE: 'true',
    SEED_DEMO_DATA: 'true',
    ...env,
  });
  try {
    const listening = await proc.waitForLog((l) => l.msg === 'api listening', 30_000);
    await proc.waitForLog((l) => String(l.msg).startsWith('all-in-one'));
    return { proc, baseUrl: String(listening.url).replace(/\/graphql$/, '') };
  } catch (err) {
    // The caller never gets a process that did not start: do not leave it running.
    proc.child.kill('SIGKILL');
    await proc.exited;
    throw err;
  }
}

/** The environment of a command run on a test database, as most process tests start one: one role, no seed, loopback. `extra` adds or overrides. */
export function commandEnv(databaseUrl: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    ALL_IN_ONE: 'false',
    SEED_DEMO_DATA: 'false',
    ...extra,
  };
}

/** Stop a test's process if it still runs: `signal` first (SIGTERM drains), SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopProcess(proc: CommandProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!proc) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  }
  await proc.exited;
}

/** A command run to its end (an install, a build, a one-shot script): its exit code and its stdout and stderr together. */
export function runToExit(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}
