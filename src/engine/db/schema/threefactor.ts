/**
 * The engine's PostgreSQL schema. Every engine table, sequence, type and
 * function lives in it (as Hasura keeps `hdb_catalog` and graphile-worker
 * `graphile_worker`), so the engine can attach to a database that another
 * application already uses. The name is fixed: SQL functions name it.
 */
import { pgSchema } from 'drizzle-orm/pg-core';

export const ENGINE_SCHEMA = 'threefactor';
export const threefactor = pgSchema(ENGINE_SCHEMA);
