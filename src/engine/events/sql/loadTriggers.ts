/** Reads every trigger with its runtime state, for the dispatcher's registry. */
import type { TriggerDefinition } from '../triggers/triggerDefinition.js';
import type { Queryable } from './queryable.js';

export interface StoredTrigger {
  name: string;
  definition: TriggerDefinition;
  enabled: boolean;
  paused: boolean;
}

export async function loadTriggers(sql: Queryable): Promise<StoredTrigger[]> {
  return sql<StoredTrigger[]>`
    select name, definition, enabled, paused
    from threefactor.event_triggers
    order by name`;
}
