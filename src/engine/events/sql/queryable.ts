/**
 * What the statement wrappers in this folder run on: the pool or a
 * transaction, so callers can group statements atomically.
 */
import type postgres from 'postgres';

export type Queryable = postgres.ISql;

/**
 * JSON for a `${…}::text::jsonb` parameter. Typed as text first so
 * postgres.js sends the string as is instead of JSON-encoding it again.
 */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value);
}
