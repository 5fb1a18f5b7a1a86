/**
 * Replay: new deliveries (source 'replay') for events already in the log
 * that the trigger matches, by the same matching as live routing, filtered by
 * type, time and (xid, seq) cursor, oldest first, at most `limit`. Returns
 * how many were created and the cursor of the last one, to page on; appends
 * `threefactor.deliveries.replayed` naming them in the same statement.
 */
import { ENGINE_EVENTS } from '../engineEvents.js';
import { announceDeliveries } from './announceDeliveries.js';
import type { Queryable } from './queryable.js';

export interface ReplayFilter {
  trigger: string;
  types?: string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: { xid: string; seq: string } | undefined;
  before?: { xid: string; seq: string } | undefined;
  limit: number;
}

export async function replayDeliveries(sql: Queryable, f: ReplayFilter): Promise<{ created: number; last: { xid: string; seq: string } | null }> {
  const rows = await sql<{ xid: string; seq: string }[]>`
    with chosen as (
      select e.id, e.xid, e.seq, t.name, t.max_attempts, threefactor.ordering_key(t, e) as ordering_key
      from threefactor.event_triggers as t
      join threefactor.events as e on threefactor.trigger_matches(t, e)
      where t.name = ${f.trigger}
        and (${f.types ?? null}::text[] is null or e.type = any(${f.types ?? null}::text[]))
        and (${f.from ?? null}::timestamptz is null or e.created_at >= ${f.from ?? null}::timestamptz)
        and (${f.to ?? null}::timestamptz is null or e.created_at < ${f.to ?? null}::timestamptz)
        and (${f.after?.xid ?? null}::xid8 is null or (e.xid, e.seq) > (${f.after?.xid ?? null}::xid8, ${f.after?.seq ?? null}::bigint))
        and (${f.before?.xid ?? null}::xid8 is null or (e.xid, e.seq) < (${f.before?.xid ?? null}::xid8, ${f.before?.seq ?? null}::bigint))
      order by e.xid, e.seq
      limit ${f.limit}
    ),
    changed as (
      insert into threefactor.deliveries (event_id, trigger_name, source, max_attempts, ordering_key, event_xid, event_seq)
      select id, name, 'replay', max_attempts, ordering_key, xid, seq
      from chosen
      returning id, event_id, trigger_name, event_xid, event_seq
    ),
    ${announceDeliveries(sql, ENGINE_EVENTS.deliveriesReplayed)}
    select event_xid::text as xid, event_seq::text as seq from changed`;
  const last = rows.reduce<{ xid: string; seq: string } | null>((max, r) => {
    if (!max) return r;
    const bx = BigInt(r.xid);
    const mx = BigInt(max.xid);
    return bx > mx || (bx === mx && BigInt(r.seq) > BigInt(max.seq)) ? r : max;
  }, null);
  return { created: rows.length, last };
}
