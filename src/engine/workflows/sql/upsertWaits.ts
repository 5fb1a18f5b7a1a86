/**
 * The waits instances are in (workflow_waits) or have registered ahead (workflow_waits_ahead): one row per instance
 * in each, a new wait replacing the one before.
 */
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';
import type { WaitRow } from '../advance.js';

export type WaitTable = 'workflow_waits' | 'workflow_waits_ahead';

export async function upsertWaits(sql: Queryable, table: WaitTable, waits: WaitRow[]): Promise<void> {
  if (waits.length === 0) return;
  const records = waits.map((w) => ({
    instance_id: w.instanceId,
    key: w.key,
    step_index: w.stepIndex,
    step_id: w.stepId,
    for_types: w.forTypes,
    for_prefixes: w.forPrefixes,
    fail_types: w.failTypes,
    fail_prefixes: w.failPrefixes,
    for_condition: w.forCondition,
    fail_condition: w.failCondition,
  }));
  await sql`
    insert into threefactor.${sql(table)} as w (instance_id, key, step_index, step_id, for_types, for_prefixes, fail_types, fail_prefixes, for_condition, fail_condition)
    select instance_id, key, step_index, step_id, for_types, for_prefixes, fail_types, fail_prefixes, for_condition, fail_condition
    from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(
      instance_id uuid, key text, step_index int, step_id uuid, for_types text[], for_prefixes text[], fail_types text[], fail_prefixes text[],
      for_condition text, fail_condition text)
    on conflict (instance_id) do update set
      key = excluded.key, step_index = excluded.step_index, step_id = excluded.step_id,
      for_types = excluded.for_types, for_prefixes = excluded.for_prefixes,
      fail_types = excluded.fail_types, fail_prefixes = excluded.fail_prefixes,
      for_condition = excluded.for_condition, fail_condition = excluded.fail_condition, created_at = now()`;
}
