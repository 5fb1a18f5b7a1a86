/**
 * The database client: one postgres.js pool per process, wrapped by drizzle.
 * The same `sql` instance owns the process's single LISTEN connection
 * (postgres.js keeps one dedicated connection for all `sql.listen` calls).
 */
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Logger } from '../log.js';

export type Sql = postgres.Sql;
export type Db = PostgresJsDatabase;
/** A drizzle transaction handle, as passed to `db.transaction(fn)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  url: string;
  sql: Sql;
  db: Db;
  close(timeoutSeconds?: number): Promise<void>;
}

export interface ConnectOptions {
  max?: number;
  log?: Logger;
  /** Shown in pg_stat_activity, to tell processes apart. */
  applicationName?: string;
}

export function connect(url: string, opts: ConnectOptions = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    // Reconnect within seconds of the database coming back (postgres.js's default grows to 20 s
    // after a short outage); the LISTEN connection shares it, and catches up when it is back.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2),
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'threefactor' },
  });
  const db = drizzle({ client: sql });
  return {
    url,
    sql,
    db,
    close: (timeout = 5) => sql.end({ timeout }),
  };
}
