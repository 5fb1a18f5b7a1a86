/**
 * Makes the declared version of each declared workflow its only `current`
 * one (what new events start); other versions stay stored, not current, for
 * the instances that pinned them. Workflows not declared here are left as
 * they are (a process of another version may still declare them). Writes
 * only the rows whose flag changes; returns them.
 */
import { jsonParam, type Queryable } from '../../events/sql/queryable.js';

export async function setCurrentVersions(sql: Queryable, declared: Array<{ name: string; version: number }>): Promise<Array<{ name: string; version: number; current: boolean }>> {
  return sql<Array<{ name: string; version: number; current: boolean }>>`
    with r as (select * from jsonb_to_recordset(${jsonParam(declared)}::text::jsonb) as r(name text, version int))
    update threefactor.workflow_definitions as d
    set current = exists (select 1 from r where r.name = d.name and r.version = d.version)
    where d.name in (select name from r)
      and d.current is distinct from exists (select 1 from r where r.name = d.name and r.version = d.version)
    returning d.name, d.version, d.current`;
}
