/**
 * Benchmark child processes: a TypeScript module forked under tsx with an
 * IPC channel (structured-clone serialization, so typed arrays of samples
 * cross cheaply). Load generators and the API run in their own processes so
 * they never share an event loop with each other or with the harness.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';

export interface ChildMessage {
  type: string;
}

export interface ForkOptions {
  /** Name for errors and progress lines. */
  name: string;
  env?: Record<string, string | undefined>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[];
  /** File that receives the child's stdout and stderr (e.g. its JSON logs); inherited when absent. */
  outputFile?: string;
}

export interface Child<Out extends ChildMessage, In extends ChildMessage> {
  name: string;
  process: ChildProcess;
  send(message: In): void;
  /** The next message of this type; rejects if the child exits first. */
  next<T extends Out['type']>(type: T): Promise<Extract<Out, { type: T }>>;
  /** Resolves with the exit code once the child has exited. */
  exited: Promise<number | null>;
  /** SIGKILL if still running (cleanup path). */
  kill(): void;
}

export function forkTs<Out extends ChildMessage, In extends ChildMessage>(modulePath: string, opts: ForkOptions): Child<Out, In> {
  const output = opts.outputFile ? openSync(opts.outputFile, 'a') : 'inherit';
  const proc = fork(modulePath, [], {
    execArgv: ['--import', import.meta.resolve('tsx'), ...(opts.nodeFlags ?? [])],
    env: childEnv(opts.env),
    stdio: ['ignore', output, output, 'ipc'],
    serialization: 'advanced',
  });

  const inbox: Out[] = [];
  const waiters: Array<{ type: string; resolve: (m: Out) => void; reject: (e: Error) => void }> = [];
  let exitCode: number | null | undefined;

  proc.on('message', (raw) => {
    const message = raw as Out;
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      for (const w of waiters.splice(0)) w.reject(new Error(`${opts.name} exited (${signal ?? code}) while waiting for "${w.type}"`));
      resolve(code);
    });
  });

  return {
    name: opts.name,
    process: proc,
    send: (message) => void proc.send(message),
    next: (type) => {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as Extract<Out, { type: typeof type }>);
      if (exitCode !== undefined) return Promise.reject(new Error(`${opts.name} has exited (${exitCode})`));
      return new Promise((resolve, reject) => waiters.push({ type, resolve: resolve as (m: Out) => void, reject }));
    },
    exited,
    kill: () => {
      if (exitCode === undefined) proc.kill('SIGKILL');
    },
  };
}

/** The parent's environment with overrides; an undefined override removes the variable. */
function childEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Child side: send a message to the parent. */
export function toParent<M extends ChildMessage>(message: M): void {
  if (!process.send) throw new Error('not started as a benchmark child (no IPC channel)');
  process.send(message);
}

/** Child side: handle every message from the parent. A child outlives no parent: losing the channel ends it. */
export function onParent<In extends ChildMessage>(handler: (message: In) => void | Promise<void>): void {
  process.on('disconnect', () => process.exit(1));
  process.on('message', (raw) => {
    Promise.resolve(handler(raw as In)).catch((err: unknown) => {
      process.stderr.write(`benchmark child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
  });
}
