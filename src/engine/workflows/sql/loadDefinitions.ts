/** Stored workflow definitions: every version (sync compiles all their conditions), or the (name, version) pairs asked for (the runner's cache). */
import type { WorkflowDefinition } from '../definition.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export interface StoredDefinition {
  name: string;
  version: number;
  definition: WorkflowDefinition;
  current: boolean;
}

export async function loadDefinitions(sql: Queryable, only?: Array<{ name: string; version: number }>): Promise<StoredDefinition[]> {
  if (!only) return sql<StoredDefinition[]>`select name, version, definition, current from threefactor.workflow_definitions order by name, version`;
  return sql<StoredDefinition[]>`
    select d.name, d.version, d.definition, d.current
    from threefactor.workflow_definitions as d
    join jsonb_to_recordset(${jsonParam(only)}::text::jsonb) as r(name text, version int) on r.name = d.name and r.version = d.version`;
}
