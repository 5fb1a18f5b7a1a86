/**
 * The newest-first keyset on (created_at, id) that the order and delivery
 * pages share: stable while rows are being inserted, and no OFFSET scan. The
 * cursor carries created_at at PostgreSQL's microsecond precision (a JS Date
 * would round to milliseconds and skip or repeat rows) and the id as the
 * tie-breaker.
 */
import { and, asc, desc, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { badInput } from '../errors.js';

/** The two columns a table is paged by. */
export interface TimeKey {
  createdAt: AnyPgColumn;
  id: AnyPgColumn;
}

/** Year 0000 passes the ISO format but not PostgreSQL (there is no year 0 in timestamptz). */
const Cursor = z.tuple([z.iso.datetime({ precision: 6 }).refine((at) => !at.startsWith('0000')), z.uuid()]);

/** created_at as microsecond text, selected as `cursorAt` beside the row. */
export function cursorAt(key: TimeKey): SQL<string> {
  return sql<string>`to_char(${key.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export function timeCursor(row: { cursorAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.cursorAt, row.id])).toString('base64url');
}

/** A cursor from a client as [created_at, id]; BAD_USER_INPUT for a malformed one. */
export function decodeCursor(cursor: string, field: 'after' | 'before'): [string, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = Cursor.safeParse(parsed);
  if (!result.success) throw badInput(`Invalid cursor ${JSON.stringify(cursor.slice(0, 100))} in ${field}: pass an edge's cursor as returned`, field);
  return result.data;
}

/** Rows strictly after/before the given cursors; BAD_USER_INPUT for a malformed one. */
export function timeKeysetWhere(key: TimeKey, page: { after?: string; before?: string }): SQL | undefined {
  const after = page.after ? decodeCursor(page.after, 'after') : undefined;
  const before = page.before ? decodeCursor(page.before, 'before') : undefined;
  const tuple = sql`(${key.createdAt}, ${key.id})`;
  return and(
    after && sql`${tuple} < (${after[0]}::timestamptz, ${after[1]}::uuid)`,
    before && sql`${tuple} > (${before[0]}::timestamptz, ${before[1]}::uuid)`,
  );
}

/** Newest first; oldest first when paging backwards (the connection helper reverses). */
export function timeKeysetOrder(key: TimeKey, inverted: boolean): SQL[] {
  return inverted ? [asc(key.createdAt), asc(key.id)] : [desc(key.createdAt), desc(key.id)];
}
