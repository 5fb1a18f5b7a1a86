/**
 * The runner's claim: up to `limit` instances that are ready (an event
 * started or signalled them) or whose timer is due, locked for this
 * transaction (SKIP LOCKED: another runner's batch is left to it). Each of the
 * two arms is served by its partial index (workflow_instances_ready_idx,
 * workflow_instances_wake_idx). The lock is FOR NO KEY UPDATE so a signal's
 * insert (its foreign key takes KEY SHARE) does not wait for the batch; its
 * `ready` update does, and sets ready again after the batch commits.
 *
 * It notes the ids it locked in a transaction-local setting (./claimed.ts),
 * so the batch's reads, sent right behind it in the same round trip, can
 * name them without waiting for its reply.
 */
import type { JsonObject } from '../../db/schema/events.js';
import type { WorkflowFailure, WorkflowPhase, WorkflowStatus } from '../../db/schema/workflows.js';
import type { Queryable } from '../../events/sql/queryable.js';
import { CLAIMED_SETTING } from './claimed.js';
import type { InstanceState } from '../advance.js';

interface Row {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: WorkflowStatus;
  step_index: number;
  phase: WorkflowPhase;
  started_by_event: string;
  input: JsonObject;
  results: JsonObject;
  failure: WorkflowFailure | null;
  current_step: string | null;
  last_event: string | null;
  timeout_fired: boolean;
  wake_at: Date | string | null;
  now: Date | string;
}

/** `now` is the database's clock at the claim: timers are judged by the clock that set them, whatever this host's says. */
export async function claimInstances(sql: Queryable, limit: number): Promise<{ instances: InstanceState[]; now: Date }> {
  const rows = await sql<Row[]>`
    with claimed as (
      select id, workflow, version, key, status, step_index, phase, started_by_event, input, results, failure,
             current_step, last_event, timeout_fired, wake_at
      from threefactor.workflow_instances
      where ready or (finished_at is null and wake_at is not null and wake_at <= now())
      order by coalesce(wake_at, created_at)
      limit ${limit}
      for no key update skip locked
    ), noted as (
      -- One row even when nothing was claimed (an aggregate): the setting is then empty.
      select pg_catalog.set_config(${CLAIMED_SETTING}, coalesce(string_agg(id::text, ','), ''), true) from claimed
    )
    select claimed.*, clock_timestamp() as now from claimed, noted`;
  const instances = rows.map((r) => ({
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    key: r.key,
    status: r.status,
    stepIndex: r.step_index,
    phase: r.phase,
    startedByEvent: r.started_by_event,
    input: r.input,
    results: r.results,
    failure: r.failure,
    currentStep: r.current_step,
    lastEvent: r.last_event,
    timeoutFired: r.timeout_fired,
    // Behind a transaction pooler the driver fetches no types and timestamps come as text.
    wakeAt: r.wake_at === null ? null : new Date(r.wake_at),
  }));
  return { instances, now: rows[0] ? new Date(rows[0].now) : new Date() };
}
