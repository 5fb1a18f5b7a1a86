/**
 * A workflow instance as the admin API and the live subscription show it:
 * the row of threefactor.workflow_instances, the name and kind of its
 * current step (from the definition version it pinned) and, while it is in
 * a wait step, what it waits for (threefactor.workflow_waits). The select
 * list and its mapping are shared by the statements that read instances
 * (pageInstances.ts, readInstances.ts), so both return the same record.
 */
import type { JsonObject } from '../../db/schema/events.js';
import type { WorkflowFailure, WorkflowPhase, WorkflowStatus, WorkflowStepKind } from '../../db/schema/workflows.js';
import type { Queryable } from '../../events/sql/queryable.js';

export { WORKFLOW_PHASES, WORKFLOW_STATUSES, type WorkflowFailure, type WorkflowPhase, type WorkflowStatus } from '../../db/schema/workflows.js';

/** An instance in one of these changes no more (a `failed` one may still be retried, so it is not among them). */
export const FINISHED_STATUSES: ReadonlySet<WorkflowStatus> = new Set<WorkflowStatus>(['completed', 'compensated']);

/** What a wait step waits for; a prefix is shown as `prefix*`, as definitions write it. */
export interface WorkflowWaitRecord {
  key: string;
  forTypes: string[];
  failTypes: string[];
}

export interface WorkflowInstanceRecord {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: WorkflowStatus;
  phase: WorkflowPhase;
  /** The step being run (forward) or compensated (compensate; -1: the start's compensation). */
  stepIndex: number;
  /** The workflow_steps row in progress (null between steps, and for a finished instance). */
  currentStepId: string | null;
  /** The current step's name and kind: its row's, or the pinned definition's between steps (null once finished). */
  currentStep: string | null;
  currentStepKind: WorkflowStepKind | null;
  startedByEvent: string | null;
  input: JsonObject;
  results: JsonObject;
  failure: WorkflowFailure | null;
  wakeAt: Date | null;
  ready: boolean;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  wait: WorkflowWaitRecord | null;
  /** created_at at microsecond precision, for the (created_at, id) keyset of the admin pages. */
  cursorAt: string;
}

export interface InstanceRow {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: WorkflowStatus;
  phase: WorkflowPhase;
  step_index: number;
  current_step_id: string | null;
  current_step: string | null;
  current_step_kind: WorkflowStepKind | null;
  started_by_event: string | null;
  input: JsonObject | null;
  results: JsonObject | null;
  failure: WorkflowFailure | null;
  wake_at: string | null;
  ready: boolean;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  wait_key: string | null;
  for_types: string[] | null;
  for_prefixes: string[] | null;
  fail_types: string[] | null;
  fail_prefixes: string[] | null;
  cursor_at: string;
}

/**
 * The select list over `i` (workflow_instances), `d` (its definition), `cs` (its step in progress) and `w` (its
 * wait), the last three left joined.
 * Timestamps go out as ISO text: the shared client's timestamp parser returns PostgreSQL's own text.
 */
export function instanceColumns(sql: Queryable) {
  return sql`
    i.id, i.workflow, i.version, i.key, i.status, i.phase, i.step_index,
    i.current_step as current_step_id,
    -- jsonb's -> -1 would be the last step: index -1 is the start's compensation, which has a row while it runs.
    coalesce(cs.name, case when i.step_index >= 0 then d.definition -> 'steps' -> i.step_index ->> 'name' end) as current_step,
    coalesce(cs.kind, case when i.step_index >= 0 then d.definition -> 'steps' -> i.step_index ->> 'kind' end) as current_step_kind,
    i.started_by_event, i.input, i.results, i.failure,
    to_json(i.wake_at) #>> '{}' as wake_at, i.ready,
    to_json(i.created_at) #>> '{}' as created_at, to_json(i.updated_at) #>> '{}' as updated_at,
    to_json(i.finished_at) #>> '{}' as finished_at,
    w.key as wait_key, w.for_types, w.for_prefixes, w.fail_types, w.fail_prefixes,
    to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`;
}

/** The joins `instanceColumns` reads from, after `from threefactor.workflow_instances as i`. */
export function instanceJoins(sql: Queryable) {
  return sql`
    left join threefactor.workflow_definitions as d on d.name = i.workflow and d.version = i.version
    left join threefactor.workflow_steps as cs on cs.id = i.current_step
    left join threefactor.workflow_waits as w on w.instance_id = i.id`;
}

const date = (text: string | null): Date | null => (text === null ? null : new Date(text));
const withPrefixes = (types: string[] | null, prefixes: string[] | null): string[] => [...(types ?? []), ...(prefixes ?? []).map((p) => `${p}*`)];

export function toInstanceRecord(r: InstanceRow): WorkflowInstanceRecord {
  return {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    key: r.key,
    status: r.status,
    phase: r.phase,
    stepIndex: r.step_index,
    currentStepId: FINISHED_STATUSES.has(r.status) ? null : r.current_step_id,
    currentStep: FINISHED_STATUSES.has(r.status) ? null : r.current_step,
    currentStepKind: FINISHED_STATUSES.has(r.status) ? null : r.current_step_kind,
    startedByEvent: r.started_by_event,
    input: r.input ?? {},
    results: r.results ?? {},
    failure: r.failure ?? null,
    wakeAt: date(r.wake_at),
    ready: r.ready,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    finishedAt: date(r.finished_at),
    wait:
      r.wait_key === null
        ? null
        : { key: r.wait_key, forTypes: withPrefixes(r.for_types, r.for_prefixes), failTypes: withPrefixes(r.fail_types, r.fail_prefixes) },
    cursorAt: r.cursor_at,
  };
}
