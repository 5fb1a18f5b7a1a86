/**
 * A threefactor command (`dispatch`, `handlers`, …) as a benchmark process,
 * started the way an operator starts it: `node dist/cli/main.js <command>`
 * (the Procfile's lines; ./builtServer.ts), the repository as cwd, configured
 * only by the environment it is given (never the harness's own, whose
 * DATABASE_URL names the server rather than the scenario's database). Its
 * JSON log lines go to a file and can be waited for; its CPU is read from
 * /proc; it is stopped with SIGTERM (a drain), SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_CLI } from './builtServer.js';
import { processCpuUs } from './serverCpu.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STOP_GRACE_MS = 15_000;

export interface CommandProcess {
  name: string;
  child: ChildProcess;
  /** The first log line (parsed JSON) with this `msg`; rejects if the process exits first or after timeoutMs. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Cumulative CPU of the process, µs (Linux /proc; NaN elsewhere). */
  cpuUs(): Promise<number>;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code once it has exited. */
  stop(): Promise<number | null>;
}

export function startCommand(command: string, env: Record<string, string>, logFile: string): CommandProcess {
  const child = spawn(process.execPath, [BUILT_CLI, command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const wake of waiters) wake();
      log.end();
      resolve(code);
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name: command,
    child,
    waitForLog(msg, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`${command}: no "${msg}" log line within ${timeoutMs / 1000} s; see ${logFile}`)), timeoutMs);
        const done = (err?: Error, line?: Record<string, unknown>) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(line!);
        };
        const check = () => {
          const line = lines.find((l) => l.msg === msg);
          if (line) done(undefined, line);
          else if (!running()) done(new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before "${msg}": ${stderr.trim() || `see ${logFile}`}`));
        };
        waiters.add(check);
        check();
      });
    },
    cpuUs: () => processCpuUs(child.pid),
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}
