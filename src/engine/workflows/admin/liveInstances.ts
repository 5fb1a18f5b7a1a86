/**
 * Workflow instances as the `workflowInstance(id)` subscription re-reads them
 * (`LiveRows`): the hub topic is the instance's aggregate
 * (`threefactor.workflow:<id>`), on which the runner appends its engine
 * events (a step started, a transition), and each change re-reads the
 * instance (and its history) once per hub tick for every subscriber in the
 * process.
 *
 * The version is the number of the read that produced the row, taken before
 * the statement runs: a statement that starts later sees every commit an
 * earlier one saw, so a higher number is never an older state, whatever
 * order reads finish in. (The instance's updated_at could not serve: it is
 * a transaction's start time, which need not follow commit order.) A
 * re-read that finds nothing new is sent again; that costs a message, never
 * a missed state.
 */
import type { Db, Sql } from '../../db/client.js';
import { ENGINE_AGGREGATES } from '../../events/engineEvents.js';
import type { LiveRows } from '../../realtime/sharedFeed.js';
import { aggregateTopic } from '../../realtime/topics.js';
import { FINISHED_STATUSES } from './instanceRecord.js';
import { withHistory, type WorkflowInstanceView } from './instanceView.js';
import { readWorkflowInstances } from './readInstances.js';

/** The hub topic of an instance: its engine events' aggregate (`threefactor.workflow`, the instance id). */
export const instanceTopic = (instanceId: string): string => aggregateTopic(ENGINE_AGGREGATES.workflow, instanceId);

export type LiveWorkflowInstance = WorkflowInstanceView & { readNumber: number };

let reads = 0;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Read instances, numbered by this read. */
export async function readLiveInstances(sql: Sql, ids: readonly string[]): Promise<Map<string, LiveWorkflowInstance>> {
  const readNumber = ++reads;
  // Aggregate ids are text: only a UUID can be an instance.
  const rows = await readWorkflowInstances(sql, ids.filter((id) => UUID.test(id)));
  const views = await withHistory(sql, [...rows.values()]);
  return new Map(views.map((row) => [row.id, { ...row, readNumber }]));
}

/** The postgres.js pool under drizzle's Db (drizzle keeps it as `$client`; its type does not say so). */
function poolOf(db: Db): Sql {
  const client = (db as Db & { $client?: Sql }).$client;
  if (typeof client !== 'function') throw new Error('workflow instances: the database handle has no postgres.js client');
  return client;
}

export const liveInstances: LiveRows<LiveWorkflowInstance> = {
  name: 'workflowInstance',
  keyOf: (event) => event.aggregateId,
  loadMany: (ids, db) => readLiveInstances(poolOf(db), ids),
  versionOf: (row) => row.readNumber,
  isFinal: (row) => FINISHED_STATUSES.has(row.status),
};
