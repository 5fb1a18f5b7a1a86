/**
 * Retry a failed workflow instance from the step it failed at, in one
 * statement: `failed` → due again (ready) at the same step and phase, its
 * timer cleared, and the runners woken (NOTIFY threefactor_workflows, sent
 * at commit). The runner then starts that step anew: a new history row and a
 * new step id. Any other status is refused, unchanged.
 */
import type { Database } from '../../db/client.js';
import { WORKFLOWS_CHANNEL } from '../../events/channels.js';

export type RetryOutcome =
  | { kind: 'retried'; workflow: string; stepIndex: number }
  | { kind: 'refused'; status: string }
  | { kind: 'missing' };

interface Row {
  status: string;
  retried: boolean;
  workflow: string;
  step_index: number;
}

export async function retryWorkflow(database: Pick<Database, 'sql'>, instanceId: string): Promise<RetryOutcome> {
  const [row] = await database.sql<Row[]>`
    with retried as (
      update threefactor.workflow_instances as i
      set status = case when i.phase = 'compensate' then 'compensating' else 'running' end,
          ready = true,
          wake_at = null,
          finished_at = null,
          updated_at = now()
      where i.id = ${instanceId}::uuid and i.status = 'failed'
      returning i.id
    ),
    woken as (select pg_notify(${WORKFLOWS_CHANNEL}, '') from retried)
    select i.status, exists (select 1 from retried) as retried, i.workflow, i.step_index,
           (select count(*) from woken) as woken
    from threefactor.workflow_instances as i
    where i.id = ${instanceId}::uuid`;
  if (!row) return { kind: 'missing' };
  // The outer select sees the row as it was before the update (one snapshot): 'failed' when it was retried.
  if (!row.retried) return { kind: 'refused', status: row.status };
  return { kind: 'retried', workflow: row.workflow, stepIndex: row.step_index };
}
