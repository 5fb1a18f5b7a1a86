/**
 * A PgBouncer of a test's own, in transaction mode, in front of the test
 * database server: Debian's binary (scripts/ensure-test-packages.sh installs
 * it), started on a free port with its config in a temp dir, stopped by the
 * test. Clients connect with trust auth; PgBouncer logs in to the server with
 * the test server's own credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';
import { freePort } from '../../src/engine/db/embedded.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Why a PgBouncer test cannot run on this machine, or undefined when it can. */
export function pgbouncerMissing(): string | undefined {
  return existsSync(PGBOUNCER) ? undefined : `${PGBOUNCER} is missing (run scripts/ensure-test-packages.sh as root)`;
}

export interface PgBouncer {
  /** URL of database `db` through the pooler. */
  urlFor(db: string): string;
  /** What PgBouncer logged so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database and user: keep it below the number of concurrent clients. */
  poolSize: number;
}

/** A libpq connection-string value, quoted. */
const quoted = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** PgBouncer refuses to run as root: when the tests are root, it runs as `nobody`. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  if (!line) throw new Error('tests run as root and there is no user nobody to run pgbouncer as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPgBouncer(opts: PgBouncerOptions): Promise<PgBouncer> {
  const server = new URL(inject('pgAdminUrl'));
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'threefactor-pgbouncer-'));
  const target = [`host=${quoted(server.hostname)}`, `port=${server.port || '5432'}`, `user=${quoted(user)}`, ...(password ? [`password=${quoted(password)}`] : [])];
  const files = {
    'pgbouncer.ini': [
      '[databases]',
      `* = ${target.join(' ')}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize}`,
      'max_client_conn = 500',
      // The admin console (database `pgbouncer`: SHOW POOLS, SHOW CLIENTS), for a failing test's message.
      `admin_users = ${user}`,
    ].join('\n'),
    // trust still needs the user listed.
    'users.txt': `"${user}" ""\n`,
  };
  const runAs = unprivilegedUser();
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), `${text}\n`, { mode: 0o600 });
  if (runAs) for (const name of ['', ...Object.keys(files)]) chownSync(path.join(dir, name), runAs.uid, runAs.gid);

  let output = '';
  const child: ChildProcess = spawn(PGBOUNCER, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: immediate shutdown, clients or not.
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const urlFor = (db: string) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${db}`;

  try {
    await untilAccepting(urlFor('postgres'), child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { urlFor, log: () => output, stop };
}

async function untilAccepting(url: string, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pgbouncer exited at start: ${output().slice(-2000)}`);
    const sql = postgres(url, { max: 1, connect_timeout: 2, prepare: false, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`pgbouncer not accepting within ${timeoutMs} ms (${String(err)}): ${output().slice(-2000)}`);
    } finally {
      await sql.end({ timeout: 1 });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
