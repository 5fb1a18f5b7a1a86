/**
 * Writes advanced instances: their new state, ready cleared (the signals read
 * are deleted in the same transaction; one that arrives meanwhile sets ready
 * again once this commits, see threefactor.workflow_events).
 */
import type { InstanceState } from '../advance.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export async function updateInstances(sql: Queryable, instances: Array<InstanceState & { finished: boolean }>): Promise<void> {
  if (instances.length === 0) return;
  const records = instances.map((i) => ({
    id: i.id,
    status: i.status,
    step_index: i.stepIndex,
    phase: i.phase,
    results: i.results,
    failure: i.failure,
    current_step: i.currentStep,
    last_event: i.lastEvent,
    timeout_fired: i.timeoutFired,
    wake_at: i.wakeAt?.toISOString() ?? null,
    finished: i.finished,
  }));
  await sql`
    update threefactor.workflow_instances as i
    set status = r.status, step_index = r.step_index, phase = r.phase, results = r.results, failure = r.failure,
        current_step = r.current_step, last_event = r.last_event, timeout_fired = r.timeout_fired, wake_at = r.wake_at,
        ready = false, updated_at = now(),
        finished_at = case when r.finished then coalesce(i.finished_at, now()) end
    from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(
      id uuid, status text, step_index int, phase text, results jsonb, failure jsonb, current_step uuid, last_event uuid,
      timeout_fired boolean, wake_at timestamptz, finished boolean)
    where i.id = r.id`;
}
