/** Records steps' ends: status, result, error, finished_at. */
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';
import type { StepFinish } from '../advance.js';

export async function finishSteps(sql: Queryable, finishes: StepFinish[]): Promise<void> {
  if (finishes.length === 0) return;
  const records = finishes.map((f) => ({ id: f.id, status: f.status, result: f.result === undefined ? null : f.result, error: f.error }));
  await sql`
    update threefactor.workflow_steps as s
    set status = r.status, result = r.result, error = r.error, finished_at = coalesce(s.finished_at, now())
    from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(id uuid, status text, result jsonb, error text)
    where s.id = r.id`;
}
