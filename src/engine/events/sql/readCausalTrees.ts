/**
 * The causal trees of many root events, in one statement (a hub tick re-reads
 * every touched tree at once; the `causalTree` query reads one), run with JIT
 * off (see below). For each
 * root, recursively: the event, its deliveries (with the trigger's pause),
 * every attempt of each, and the events each delivery caused
 * (events.caused_by_delivery), breadth first. A workflow is a child of the
 * event that started it (workflow_instances.started_by_event): the tree lists
 * the instance (its status says whether more will happen), and its call
 * steps' engine events (`threefactor.workflow.step`, id = the workflow_steps
 * id), whose deliveries and write-backs follow as any event's do, come in
 * where they hang: a call the previous call's completion started is caused
 * by that call's delivery (caused_by_delivery, the runner's edge), so it is
 * that delivery's child like any write-back; any other call (the first, one
 * after a wait or a sleep) names no delivery, and its caused_by_event may lie
 * outside the tree (a wait's event), so it is placed one level below the
 * event that started its instance.
 *
 * Bounded: at most MAX_TREE_DEPTH levels below the root and MAX_TREE_EVENTS
 * events; a tree cut by either says `truncated`. The recursion sits in a
 * LATERAL subquery per root with a LIMIT, so PostgreSQL stops expanding a
 * root once it has enough rows: a huge fan-out costs the cap, not the tree.
 * Events are immutable and a child is always written after the delivery that
 * caused it, which is written after its event, so there are no cycles (the
 * depth cap would end one anyway).
 *
 * Indexes used (EXPLAIN in test/events/causalTree.test.ts): events_pkey for
 * the roots, deliveries_event_idx (deliveries by event_id),
 * events_caused_by_delivery_idx (the partial index of caused events),
 * delivery_attempts_delivery_idx (attempts by delivery_id), and for
 * workflows the index of workflow_instances by started_by_event and of
 * workflow_steps by instance_id.
 *
 * Everything a tree holds is read, payloads and handler errors included: one
 * read serves every viewer, and the GraphQL layer leaves out what a viewer
 * may not see (graphql/modules/causalTree.ts).
 */
import type { JsonObject } from '../../db/schema/events.js';
import type { Sql } from '../../db/client.js';

export const MAX_TREE_DEPTH = 32;
export const MAX_TREE_EVENTS = 1_000;

/**
 * Why an event was written: a client's write (a session), a handler's write-back (a delivery), a workflow's step
 * (the runner's engine event), or none of these (a captured write from outside the API).
 */
export type EventCause = 'api' | 'delivery' | 'workflow' | 'none';

export interface CausalEventRecord {
  id: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: JsonObject;
  session: Record<string, string> | null;
  /** The W3C trace id (32 hex digits) of the event's traceparent; null without a valid one. */
  traceId: string | null;
  cause: EventCause;
  causedByEvent: string | null;
  causedByDelivery: string | null;
  /** For a workflow's step: the event that started its instance (its parent in the tree). */
  startedByEvent: string | null;
  /** Levels below the root (the root: 0). */
  depth: number;
  createdAt: Date;
}

export interface CausalAttemptRecord {
  attempt: number;
  outcome: string;
  httpStatus: number | null;
  durationMs: number;
  startedAt: Date;
  /** False for an attempt whose outcome came too late (its lease was lost): the delivery ran again. */
  applied: boolean;
  responseBody: string | null;
  error: string | null;
}

export interface CausalDeliveryRecord {
  id: string;
  eventId: string;
  trigger: string;
  status: 'pending' | 'running' | 'delivered' | 'dead';
  source: string;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  completedAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  triggerPaused: boolean;
  pausedReason: string | null;
  attemptLog: CausalAttemptRecord[];
}

/** A workflow instance one of the tree's events started. */
export interface CausalWorkflowRecord {
  id: string;
  workflow: string;
  version: number;
  status: string;
  startedByEvent: string;
}

export interface CausalTreeRecord {
  rootId: string;
  events: CausalEventRecord[];
  deliveries: CausalDeliveryRecord[];
  workflows: CausalWorkflowRecord[];
  truncated: boolean;
}

type Timestamped<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] extends Date ? string : T[P] extends Date | null ? string | null : T[P] };

interface Row {
  root_id: string;
  truncated: boolean;
  workflows: CausalWorkflowRecord[];
  events: Timestamped<CausalEventRecord, 'createdAt'>[];
  deliveries: (Timestamped<Omit<CausalDeliveryRecord, 'attemptLog'>, 'runAt' | 'completedAt'> & {
    attemptLog: Timestamped<CausalAttemptRecord, 'startedAt'>[];
  })[];
}

/** The trees of these roots, by root id; a root that is not in the log is left out. */
export async function readCausalTrees(sql: Sql, rootIds: readonly string[]): Promise<Map<string, CausalTreeRecord>> {
  const trees = new Map<string, CausalTreeRecord>();
  if (rootIds.length === 0) return trees;
  // JIT off, in a transaction of its own: the plan's estimates multiply (roots × events × deliveries ×
  // attempts) and, while statistics lag behind a burst of writes, crossed jit_above_cost, whose
  // compilation (~400 ms) was the whole of a read that otherwise takes a few milliseconds.
  const rows = await sql.begin(async (tx) => {
    await tx`set local jit = off`;
    return tx<Row[]>`
    select r.root_id, t.truncated, t.events, t.deliveries, t.workflows
    from unnest(${[...new Set(rootIds)]}::uuid[]) as r(root_id)
    cross join lateral (
      with recursive tree as (
        select e.id, e.type, e.aggregate_type, e.aggregate_id, e.payload, e.session, e.trace_context,
               e.caused_by_event, e.caused_by_delivery, null::uuid as started_by_event, e.created_at, 0 as depth
        from threefactor.events as e
        where e.id = r.root_id
        union all
        select c.id, c.type, c.aggregate_type, c.aggregate_id, c.payload, c.session, c.trace_context,
               c.caused_by_event, c.caused_by_delivery, c.started_by_event, c.created_at, tree.depth + 1
        from tree
        -- The recursive term may name the tree once: both kinds of child come from one LATERAL union.
        cross join lateral (
          -- What its deliveries' handlers wrote back.
          select c1.*, null::uuid as started_by_event
          from threefactor.deliveries as d
          join threefactor.events as c1 on c1.caused_by_delivery = d.id
          where d.event_id = tree.id
          union all
          -- The step events of the workflows it started that no delivery caused (those the first branch finds).
          select c2.*, wi.started_by_event
          from threefactor.workflow_instances as wi
          join threefactor.workflow_steps as ws on ws.instance_id = wi.id
          join threefactor.events as c2 on c2.id = ws.id
          where wi.started_by_event = tree.id and c2.caused_by_delivery is null
        ) as c
        -- One level past the cap, to know whether the cap cut anything.
        where tree.depth <= ${MAX_TREE_DEPTH}::int
      ),
      -- One row past the cap tells a full tree from a cut one; the LIMIT stops the recursion there.
      found as (select * from tree limit ${MAX_TREE_EVENTS + 1}::int),
      kept as (select * from found where depth <= ${MAX_TREE_DEPTH}::int limit ${MAX_TREE_EVENTS}::int),
      -- Per kept event and per delivery, LATERAL: index scans by event_id and delivery_id whatever
      -- the estimates (a CTE has none), never a scan of the whole table per root.
      delivered as (
        select d.*, tr.paused, tr.paused_reason, l.log
        from kept
        cross join lateral (select * from threefactor.deliveries as d0 where d0.event_id = kept.id) as d
        join threefactor.event_triggers as tr on tr.name = d.trigger_name
        cross join lateral (
          select coalesce(jsonb_agg(jsonb_build_object(
                   'attempt', a.attempt, 'outcome', a.outcome, 'httpStatus', a.http_status, 'durationMs', a.duration_ms,
                   'startedAt', a.started_at, 'applied', coalesce(a.applied, true),
                   'responseBody', a.response_body, 'error', a.error
                 ) order by a.attempt, a.claim), '[]') as log
          from threefactor.delivery_attempts as a
          where a.delivery_id = d.id
        ) as l
      )
      select
        (select count(*) from found) > ${MAX_TREE_EVENTS}::int
          or exists (select 1 from found where depth > ${MAX_TREE_DEPTH}::int) as truncated,
        (select coalesce(jsonb_agg(jsonb_build_object(
            'id', k.id, 'type', k.type, 'aggregateType', k.aggregate_type, 'aggregateId', k.aggregate_id,
            'payload', k.payload, 'session', k.session,
            'traceId', substring(k.trace_context ->> 'traceparent' from '^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$'),
            'cause', case when k.caused_by_delivery is not null then 'delivery' when k.started_by_event is not null then 'workflow'
                          when k.session is not null then 'api' else 'none' end,
            'causedByEvent', k.caused_by_event, 'causedByDelivery', k.caused_by_delivery, 'startedByEvent', k.started_by_event,
            'depth', k.depth, 'createdAt', k.created_at
          ) order by k.depth, k.created_at, k.id), '[]') from kept as k) as events,
        (select coalesce(jsonb_agg(jsonb_build_object(
            'id', d.id, 'eventId', d.event_id, 'trigger', d.trigger_name, 'status', d.status, 'source', d.source,
            'attempts', d.attempts, 'maxAttempts', d.max_attempts, 'runAt', d.run_at, 'completedAt', d.completed_at,
            'lastStatus', d.last_status, 'lastError', d.last_error,
            'triggerPaused', d.paused, 'pausedReason', d.paused_reason,
            'attemptLog', d.log
          ) order by d.created_at, d.trigger_name, d.id), '[]') from delivered as d) as deliveries,
        (select coalesce(jsonb_agg(jsonb_build_object(
            'id', wi.id, 'workflow', wi.workflow, 'version', wi.version, 'status', wi.status, 'startedByEvent', wi.started_by_event
          ) order by wi.created_at, wi.id), '[]')
         from kept cross join lateral (select * from threefactor.workflow_instances as w0 where w0.started_by_event = kept.id) as wi) as workflows
      from (select 1) as one
      where exists (select 1 from found)
    ) as t`;
  });
  for (const row of rows) {
    trees.set(row.root_id, {
      rootId: row.root_id,
      truncated: row.truncated,
      workflows: row.workflows,
      events: row.events.map((e) => ({ ...e, createdAt: new Date(e.createdAt) })),
      deliveries: row.deliveries.map((d) => ({
        ...d,
        runAt: new Date(d.runAt),
        completedAt: d.completedAt === null ? null : new Date(d.completedAt),
        attemptLog: d.attemptLog.map((a) => ({ ...a, startedAt: new Date(a.startedAt) })),
      })),
    });
  }
  return trees;
}
