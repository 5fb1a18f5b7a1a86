/**
 * Where a reader starting "now" begins: the last event whose transaction,
 * and every older one, has finished. Anything committed later sorts after it.
 */
import type { Sql } from '../../db/client.js';
import { ORIGIN, type Cursor } from '../cursor.js';

export async function readHead(sql: Sql): Promise<Cursor> {
  const [row] = await sql<{ xid: string; seq: string }[]>`
    select xid::text as xid, seq::text as seq
    from events
    where xid < pg_snapshot_xmin(pg_current_snapshot())
    order by xid desc, seq desc
    limit 1`;
  return row ? { xid: BigInt(row.xid), seq: BigInt(row.seq) } : ORIGIN;
}
