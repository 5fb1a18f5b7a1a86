/**
 * Redeliver a trigger's whole dead-letter queue: every delivery dead when
 * the call begins, a page at a time, through redeliver (same semantics:
 * pending now, with a fresh retry budget on top of the attempts made).
 */
import type { Database } from '../../db/client.js';
import { DEAD_START, listDeadDeliveries } from '../sql/listDeadDeliveries.js';
import { redeliver } from './redeliver.js';

const PAGE = 1_000;

/** How many dead deliveries were made due again. */
export async function redeliverDead(database: Pick<Database, 'sql'>, trigger: string): Promise<number> {
  const [now] = await database.sql<{ at: string }[]>`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`;
  let after = DEAD_START;
  let total = 0;
  for (;;) {
    const page = await listDeadDeliveries(database.sql, { trigger, until: now!.at, after, limit: PAGE });
    if (page.length === 0) return total;
    total += (await redeliver(database, page.map((d) => d.id))).length;
    if (page.length < PAGE) return total;
    after = page.at(-1)!;
  }
}
