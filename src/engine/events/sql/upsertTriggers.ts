/**
 * Upserts trigger definitions with their routing columns. A row whose
 * definition and routing are unchanged is left alone (updated_at too), so
 * syncing at every start is a no-op; `paused` is runtime state and never
 * written here.
 */
import type { TriggerDefinition } from '../triggers/triggerDefinition.js';
import type { RoutingColumns } from '../triggers/routing.js';
import { jsonParam, type Queryable } from './queryable.js';

export interface TriggerUpsert {
  definition: TriggerDefinition;
  routing: RoutingColumns;
}

export async function upsertTriggers(sql: Queryable, triggers: TriggerUpsert[]): Promise<{ changed: string[] }> {
  const rows = triggers.map(({ definition, routing }) => ({
    name: definition.name,
    definition,
    enabled: routing.enabled,
    match_kind: routing.matchKind,
    event_types: routing.eventTypes,
    event_prefixes: routing.eventPrefixes,
    capture_table: routing.captureTable,
    capture_ops: routing.captureOps,
    update_columns: routing.updateColumns,
    ordering: routing.ordering,
    max_attempts: routing.maxAttempts,
    concurrency: definition.concurrency ?? null,
    rate_per_second: definition.ratePerSecond ?? null,
    has_condition: routing.hasCondition,
  }));
  const changed = await sql<{ name: string }[]>`
    insert into threefactor.event_triggers as t (
      name, definition, enabled, match_kind, event_types, event_prefixes,
      capture_table, capture_ops, update_columns, ordering, max_attempts, concurrency, rate_per_second, has_condition
    )
    select name, definition, enabled, match_kind, event_types, event_prefixes,
           capture_table, capture_ops, update_columns, ordering, max_attempts, concurrency, rate_per_second, has_condition
    from jsonb_to_recordset(${jsonParam(rows)}::text::jsonb) as r(
      name text, definition jsonb, enabled boolean, match_kind text, event_types text[], event_prefixes text[],
      capture_table text, capture_ops text[], update_columns text[], ordering text, max_attempts int,
      concurrency int, rate_per_second double precision, has_condition boolean
    )
    on conflict (name) do update set
      definition = excluded.definition,
      enabled = excluded.enabled,
      match_kind = excluded.match_kind,
      event_types = excluded.event_types,
      event_prefixes = excluded.event_prefixes,
      capture_table = excluded.capture_table,
      capture_ops = excluded.capture_ops,
      update_columns = excluded.update_columns,
      ordering = excluded.ordering,
      max_attempts = excluded.max_attempts,
      concurrency = excluded.concurrency,
      rate_per_second = excluded.rate_per_second,
      has_condition = excluded.has_condition,
      updated_at = now()
    where (t.definition, t.enabled, t.match_kind, t.event_types, t.event_prefixes,
           t.capture_table, t.capture_ops, t.update_columns, t.ordering, t.max_attempts, t.concurrency, t.rate_per_second, t.has_condition)
      is distinct from
          (excluded.definition, excluded.enabled, excluded.match_kind, excluded.event_types, excluded.event_prefixes,
           excluded.capture_table, excluded.capture_ops, excluded.update_columns, excluded.ordering, excluded.max_attempts,
           excluded.concurrency, excluded.rate_per_second, excluded.has_condition)
    returning name`;
  return { changed: changed.map((r) => r.name) };
}
