/**
 * Claims deliveries of triggers with a concurrency cap or a rate limit, both
 * held across every dispatcher, in one transaction:
 * 1. lock those triggers' rows (in name order, so claimers never deadlock):
 *    claims of a limited trigger serialize here, and only theirs;
 * 2. read each one's allowance with a snapshot taken after the lock (so a
 *    claim that committed while this one waited is counted): the cap minus
 *    its deliveries running anywhere, and the whole tokens in its bucket;
 * 3. claim within the allowance (./claimDeliveries.ts);
 * 4. take the claimed tokens out of the bucket.
 *
 * The bucket holds at most one second's worth of tokens (at least one), so a
 * trigger idle for a while starts with a burst of that size, then runs at
 * its rate.
 */
import type { Sql } from '../../db/client.js';
import { claimDeliveries, type ClaimedDelivery, type ClaimParams } from './claimDeliveries.js';

export interface LimitedClaim {
  claimed: ClaimedDelivery[];
  /** Triggers that got fewer than asked because of their cap or rate, and when their next token is due (rate only). */
  held: Array<{ trigger: string; nextTokenInMs: number | null }>;
}

interface Allowance {
  name: string;
  /** null: no cap. */
  cap_left: number | null;
  /** null: no rate limit. */
  tokens: number | null;
  rate_per_second: number | null;
}

export async function claimLimitedDeliveries(sql: Sql, p: ClaimParams): Promise<LimitedClaim> {
  const names = p.triggers.map((t) => t.trigger);
  return sql.begin(async (tx) => {
    await tx`select 1 from threefactor.event_triggers where name = any(${names}::text[]) order by name for update`;
    const allowances = await tx<Allowance[]>`
      select t.name,
             t.concurrency - (
               select count(*) from threefactor.deliveries as r where r.trigger_name = t.name and r.status = 'running'
             )::int as cap_left,
             case when t.rate_per_second is not null then
               least(
                 greatest(t.rate_per_second, 1),
                 coalesce(t.rate_tokens, greatest(t.rate_per_second, 1))
                   + extract(epoch from now() - coalesce(t.rate_refilled_at, now()))::float8 * t.rate_per_second
               )
             end as tokens,
             t.rate_per_second
      from threefactor.event_triggers as t
      where t.name = any(${names}::text[])`;
    const byName = new Map(allowances.map((a) => [a.name, a]));
    const triggers = p.triggers.map(({ trigger, limit }) => {
      const a = byName.get(trigger);
      const capLeft = a?.cap_left ?? Infinity;
      const tokens = a?.tokens === null || a?.tokens === undefined ? Infinity : Math.floor(a.tokens);
      return { trigger, limit: Math.max(0, Math.min(limit, capLeft, tokens)), asked: limit };
    });
    const claimed = await claimDeliveries(tx, { ...p, triggers });
    const counts = new Map<string, number>();
    for (const d of claimed) counts.set(d.triggerName, (counts.get(d.triggerName) ?? 0) + 1);
    const rated = allowances.filter((a) => a.tokens !== null);
    if (rated.length) {
      await tx`
        update threefactor.event_triggers as t
        set rate_tokens = b.tokens, rate_refilled_at = now()
        from unnest(${rated.map((a) => a.name)}::text[], ${rated.map((a) => a.tokens! - (counts.get(a.name) ?? 0))}::float8[]) as b(name, tokens)
        where t.name = b.name`;
    }
    const held = triggers
      .filter((t) => t.limit < t.asked && (counts.get(t.trigger) ?? 0) === t.limit)
      .map((t) => {
        const a = byName.get(t.trigger);
        const left = a?.tokens === null || a?.tokens === undefined ? null : a.tokens - (counts.get(t.trigger) ?? 0);
        const nextTokenInMs = left === null || left >= 1 || !a?.rate_per_second ? null : Math.ceil(((1 - left) / a.rate_per_second) * 1000);
        return { trigger: t.trigger, nextTokenInMs };
      });
    return { claimed, held };
  });
}
