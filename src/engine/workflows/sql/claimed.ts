/**
 * Where a runner batch's claim (./claimInstances.ts) notes the instances it
 * locked: a transaction-local setting, read by the batch's reads
 * (./readSignals.ts, ./readStepStates.ts, ./readWaits.ts). So the reads are
 * sent right behind the claim, in its round trip, rather than after its
 * reply: PostgreSQL runs a transaction's statements in the order sent, and
 * each read sees what the claim before it noted.
 */
import type postgres from 'postgres';
import type { Queryable } from '../../events/sql/queryable.js';

export const CLAIMED_SETTING = 'threefactor.claimed_instances';

/**
 * The claimed instances' ids as a uuid[] (empty when the claim took none). A scalar subquery, so it is evaluated
 * once per statement (an InitPlan): inline, a filter re-parsed the whole list for every row it tested, and the
 * step read of a burst's batches took three times as long. The outer cast (a no-op) keeps `= any(…)` the array
 * form rather than the subquery form.
 */
export function claimedIds(sql: Queryable): postgres.Fragment {
  return sql`(select pg_catalog.string_to_array(pg_catalog.current_setting(${CLAIMED_SETTING}, true), ',')::uuid[])::uuid[]`;
}
