/**
 * The wait rows of the instances the claim before it locked (./claimed.ts): the wait each is in (workflow_waits) and
 * the one registered ahead (workflow_waits_ahead).
 */
import type { Queryable } from '../../events/sql/queryable.js';
import { claimedIds } from './claimed.js';
import type { RegisteredWait } from '../advance.js';

export async function readWaits(sql: Queryable): Promise<Map<string, { current: RegisteredWait | null; ahead: RegisteredWait | null }>> {
  const rows = await sql<{ instance_id: string; ahead: boolean; step_index: number; step_id: string }[]>`
    select instance_id, false as ahead, step_index, step_id from threefactor.workflow_waits where instance_id = any(${claimedIds(sql)})
    union all
    select instance_id, true, step_index, step_id from threefactor.workflow_waits_ahead where instance_id = any(${claimedIds(sql)})`;
  const out = new Map<string, { current: RegisteredWait | null; ahead: RegisteredWait | null }>();
  for (const r of rows) {
    const entry = out.get(r.instance_id) ?? { current: null, ahead: null };
    entry[r.ahead ? 'ahead' : 'current'] = { stepIndex: r.step_index, stepId: r.step_id };
    out.set(r.instance_id, entry);
  }
  return out;
}
