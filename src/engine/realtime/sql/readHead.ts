/**
 * Where a reader starting "now" begins: the last event whose transaction,
 * and every older one, has finished. Anything committed later sorts after it.
 */
import type { Sql } from '../../db/client.js';
import { ORIGIN, type Cursor } from '../../events/cursor.js';

export async function readHead(sql: Sql): Promise<Cursor> {
  const [row] = await sql<{ xid: string; seq: string }[]>`
    select e.xid::text as xid, e.seq::text as seq
    from threefactor.events e
    where e.xid < pg_snapshot_xmin(pg_current_snapshot())
    -- e.xid, not the text column of the same name: order numerically.
    order by e.xid desc, e.seq desc
    limit 1`;
  return row ? { xid: BigInt(row.xid), seq: BigInt(row.seq) } : ORIGIN;
}
