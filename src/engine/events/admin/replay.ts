/**
 * Replay: deliver events already in the log to a trigger again (e.g. a new
 * handler catching up, or after a handler bug was fixed). Creates new
 * deliveries (source 'replay'), oldest first, a page at a time.
 *
 * Cursors are the log's gap-free (xid, seq) positions, written "xid:seq".
 */
import type { Database } from '../../db/client.js';
import { replayDeliveries } from '../sql/replayDeliveries.js';
import { wakeDispatchers } from '../sql/wakeDispatchers.js';
import { formatCursor, parseCursor } from '../cursor.js';

export interface ReplayOptions {
  trigger: string;
  /** Only these event types (exact). */
  types?: string[];
  /** created_at >= from. */
  from?: Date;
  /** created_at < to. */
  to?: Date;
  /** Only events after this cursor (exclusive). */
  afterCursor?: string;
  /** Only events before this cursor (exclusive). */
  beforeCursor?: string;
  /** At most this many deliveries per call (default 10,000); page on with the returned cursor. */
  limit?: number;
}

export interface ReplayResult {
  created: number;
  /** Cursor of the last event replayed: pass as afterCursor for the next page. */
  lastCursor: string | null;
}

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** A replay bound, in the form the SQL takes (both parts as text: a bigint may exceed 2^53); ReplayError when it is not a cursor. */
export function replayBound(cursor: string): { xid: string; seq: string } {
  const c = parseCursor(cursor);
  if (!c) throw new ReplayError(`invalid cursor "${cursor}": expected "<xid>:<seq>"`);
  return { xid: String(c.xid), seq: String(c.seq) };
}

export async function replay(database: Pick<Database, 'sql'>, opts: ReplayOptions): Promise<ReplayResult> {
  const limit = opts.limit ?? 10_000;
  if (!Number.isInteger(limit) || limit < 1) throw new ReplayError('limit must be a positive whole number');
  const [exists] = await database.sql`select 1 from threefactor.event_triggers where name = ${opts.trigger}`;
  if (!exists) throw new ReplayError(`no event trigger named "${opts.trigger}"`);
  const result = await replayDeliveries(database.sql, {
    trigger: opts.trigger,
    types: opts.types,
    from: opts.from,
    to: opts.to,
    after: opts.afterCursor ? replayBound(opts.afterCursor) : undefined,
    before: opts.beforeCursor ? replayBound(opts.beforeCursor) : undefined,
    limit,
  });
  if (result.created) await wakeDispatchers(database.sql);
  return { created: result.created, lastCursor: result.last && formatCursor(result.last) };
}
