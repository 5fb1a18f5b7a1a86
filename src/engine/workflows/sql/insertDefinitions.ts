/**
 * Stores declared workflow versions not stored yet, with their matching
 * columns, and returns the digest stored for every declared (name, version),
 * so sync can refuse a version whose content changed. A stored version is
 * never rewritten: instances may have pinned it.
 */
import type { WorkflowDefinition } from '../definition.js';
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export interface DefinitionInsert {
  definition: WorkflowDefinition;
  digest: string;
  startTypes: string[];
  startPrefixes: string[];
  startHasCondition: boolean;
  keyField: string | null;
}

export async function insertDefinitions(sql: Queryable, rows: DefinitionInsert[]): Promise<Array<{ name: string; version: number; digest: string; inserted: boolean }>> {
  const records = rows.map((r) => ({
    name: r.definition.name,
    version: r.definition.version,
    definition: r.definition,
    digest: r.digest,
    start_types: r.startTypes,
    start_prefixes: r.startPrefixes,
    start_has_condition: r.startHasCondition,
    key_field: r.keyField,
  }));
  return sql<Array<{ name: string; version: number; digest: string; inserted: boolean }>>`
    with r as (
      select * from jsonb_to_recordset(${jsonParam(records)}::text::jsonb) as r(
        name text, version int, definition jsonb, digest text, start_types text[], start_prefixes text[], start_has_condition boolean, key_field text)
    ), inserted as (
      insert into threefactor.workflow_definitions (name, version, definition, digest, start_types, start_prefixes, start_has_condition, key_field)
      select name, version, definition, digest, start_types, start_prefixes, start_has_condition, key_field from r
      on conflict (name, version) do nothing
      returning name, version, digest
    )
    select r.name, r.version, coalesce(i.digest, d.digest) as digest, i.name is not null as inserted
    from r
    left join inserted as i on i.name = r.name and i.version = r.version
    left join threefactor.workflow_definitions as d on d.name = r.name and d.version = r.version`;
}
