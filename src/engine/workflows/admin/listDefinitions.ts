/**
 * Every stored workflow definition version (threefactor.workflow_definitions),
 * by name then newest version first, with how many of its instances are not
 * finished: older versions stay while instances pinned to them still run.
 */
import type { Queryable } from '../../events/sql/queryable.js';
import type { WorkflowDefinition } from '../definition.js';

export interface WorkflowDefinitionRecord {
  name: string;
  version: number;
  current: boolean;
  digest: string;
  definition: WorkflowDefinition;
  createdAt: Date;
  /** Instances of this version not completed or compensated yet (failed ones included: they may be retried). */
  unfinished: number;
}

interface Row {
  name: string;
  version: number;
  current: boolean;
  digest: string;
  definition: WorkflowDefinition;
  created_at: string;
  unfinished: number;
}

export async function listWorkflowDefinitions(sql: Queryable, name?: string | null): Promise<WorkflowDefinitionRecord[]> {
  const rows = await sql<Row[]>`
    select d.name, d.version, d.current, d.digest, d.definition, to_json(d.created_at) #>> '{}' as created_at,
           (select count(*)::int from threefactor.workflow_instances as i
            where i.workflow = d.name and i.version = d.version and i.status not in ('completed', 'compensated')) as unfinished
    from threefactor.workflow_definitions as d
    where ${name ?? null}::text is null or d.name = ${name ?? null}
    order by d.name, d.version desc`;
  return rows.map((r) => ({ ...r, createdAt: new Date(r.created_at) }));
}
