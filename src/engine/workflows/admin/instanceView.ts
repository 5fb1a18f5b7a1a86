/**
 * Instances with their history, as every admin read hands them out (a
 * page, one instance, a live re-read): two statements, the instances then
 * all their steps. The history is read with the instance, not by a
 * per-context dataloader, because a subscription's context lives as long as
 * the subscription and would cache the first history forever.
 */
import type { Queryable } from '../../events/sql/queryable.js';
import type { WorkflowInstanceRecord } from './instanceRecord.js';
import { readWorkflowSteps, type WorkflowStepRecord } from './readSteps.js';

export type WorkflowInstanceView = WorkflowInstanceRecord & { history: WorkflowStepRecord[] };

export async function withHistory<T extends WorkflowInstanceRecord>(sql: Queryable, instances: readonly T[]): Promise<(T & { history: WorkflowStepRecord[] })[]> {
  const steps = await readWorkflowSteps(sql, instances.map((i) => i.id));
  const byInstance = new Map<string, WorkflowStepRecord[]>();
  for (const s of steps) {
    let list = byInstance.get(s.instanceId);
    if (!list) byInstance.set(s.instanceId, (list = []));
    list.push(s);
  }
  return instances.map((i) => ({ ...i, history: byInstance.get(i.id) ?? [] }));
}
