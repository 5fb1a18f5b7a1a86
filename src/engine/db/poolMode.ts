/**
 * The pool mode (DATABASE_POOL_MODE): what a connection may keep on its
 * server from one transaction to the next, and so whether statements may be
 * named or pipelined. The one place that decides it for every pool the
 * engine opens.
 *
 * - `session` (the default): a client keeps its server connection, so
 *   postgres.js names each statement once per connection and reuses it,
 *   skipping a parse-and-describe round trip.
 * - `transaction`: DATABASE_URL is a transaction pooler (PgBouncer in
 *   transaction mode, RDS Proxy, Supavisor). Each transaction may run on
 *   another server connection, where a name prepared elsewhere does not exist
 *   ("prepared statement … does not exist"), so nothing is named. PgBouncer
 *   1.21+ can track named statements (max_prepared_statements > 0); older
 *   ones, Debian 12's 1.18 among them, cannot, so this mode never relies on it.
 *   Nor does it pipeline: a query written behind another one still in flight
 *   can lose its reply when the pooler hands the server connection back at
 *   the first one's end (a describe sent with Flush, no Sync, as postgres.js
 *   sends every parameterised unnamed statement), and that connection hangs
 *   for good. One query in flight per connection; a transaction's statements
 *   run one after another. (`max_pipeline: 0` needs the postgres.js patch
 *   that lets begin() reserve its connection at it: patches/README.md.)
 *
 * A drizzle `.prepare(name)` needs no guard: with the postgres-js driver it
 * only asks postgres.js for `prepare: true` on that query (the name is never
 * sent), and postgres.js grants that only when the connection's own
 * `prepare` is on. test/db/poolMode.test.ts holds the server to it.
 *
 * Session-level state (LISTEN, session advisory locks, a reserved connection)
 * cannot live behind a transaction pooler at all; it goes to
 * DATABASE_DIRECT_URL instead (client.ts, `Database.direct`).
 */
export const POOL_MODES = ['session', 'transaction'] as const;
export type PoolMode = (typeof POOL_MODES)[number];

/** postgres.js protocol options for a pool in `mode`: named statements, pipelining. */
export function protocolOptions(mode: PoolMode): { prepare: boolean; max_pipeline?: number } {
  return mode === 'session' ? { prepare: true } : { prepare: false, max_pipeline: 0 };
}
