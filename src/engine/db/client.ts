/**
 * The database client: one postgres.js pool per process, wrapped by drizzle,
 * and the connections for session-level work (`direct`): LISTEN, session
 * advisory locks, reserved connections. Behind a transaction pooler those
 * go to DATABASE_DIRECT_URL, a pool of their own; otherwise `direct` is the
 * same pool. postgres.js keeps one dedicated connection for all `listen`
 * calls on a pool, so a process has one LISTEN connection, on `direct`.
 */
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Logger } from '../log.js';
import { protocolOptions, type PoolMode } from './poolMode.js';

export type Sql = postgres.Sql;
export type Db = PostgresJsDatabase;
/** A drizzle transaction handle, as passed to `db.transaction(fn)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  url: string;
  sql: Sql;
  db: Db;
  /** Session-level work (LISTEN, session advisory locks, `reserve()`): DATABASE_DIRECT_URL's pool, or `sql` itself. */
  direct: Sql;
  close(timeoutSeconds?: number): Promise<void>;
}

export interface ConnectOptions {
  max?: number;
  log?: Logger;
  /** Shown in pg_stat_activity, to tell processes apart; the direct pool's gets `-direct`. */
  applicationName?: string;
  /** How `url` pools its server connections (DATABASE_POOL_MODE); default `session`. */
  poolMode?: PoolMode;
  /** Where session-level work connects (DATABASE_DIRECT_URL); default: `url`, on the same pool. */
  directUrl?: string;
}

/**
 * The direct pool's size, besides DATABASE_POOL_MAX and the LISTEN
 * connection postgres.js adds: its users run one statement at a time each
 * (the hub's reads, a dispatcher's claims, a retention pass holding its
 * reserved connection), so a few suffice and a retention pass never starves
 * the others.
 */
const DIRECT_POOL_MAX = 4;

function pool(url: string, max: number, applicationName: string, mode: PoolMode): Sql {
  return postgres(url, {
    max,
    idle_timeout: 30,
    connect_timeout: 10,
    ...protocolOptions(mode),
    // Reconnect within seconds of the database coming back (postgres.js's default grows to 20 s
    // after a short outage); the LISTEN connection shares it, and catches up when it is back.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2),
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
}

export function connect(url: string, opts: ConnectOptions = {}): Database {
  const name = opts.applicationName ?? 'threefactor';
  const sql = pool(url, opts.max ?? 10, name, opts.poolMode ?? 'session');
  // Past the pooler, straight to PostgreSQL: a session of its own, so statements may be named and pipelined there.
  const direct = opts.directUrl ? pool(opts.directUrl, DIRECT_POOL_MAX, `${name}-direct`, 'session') : sql;
  const db = drizzle({ client: sql });
  return {
    url,
    sql,
    db,
    direct,
    close: async (timeout = 5) => {
      await Promise.all([sql.end({ timeout }), direct === sql ? undefined : direct.end({ timeout })]);
    },
  };
}
