/**
 * Syncs trigger definitions from code (and Hasura metadata files) into
 * `event_triggers`, and the table-capture triggers with them, in one
 * transaction under an advisory lock: several processes starting at once
 * serialize here, and a sync that changes nothing writes nothing.
 *
 * Triggers in the database that were not declared are left as they are (a
 * process of another version may still declare them); they are reported so
 * an operator can see them.
 *
 * Conditions are compiled here, from every definition stored (declared or
 * not), into the one function routing calls, threefactor.trigger_condition;
 * it is rewritten only when the compiled text changes.
 */
import type { Sql } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { loadTriggers, type StoredTrigger } from '../sql/loadTriggers.js';
import { replaceTriggerCondition } from '../sql/replaceTriggerCondition.js';
import { syncCapture, type CaptureChange } from '../sql/syncCapture.js';
import { upsertTriggers } from '../sql/upsertTriggers.js';
import type { TriggerDefinition } from './triggerDefinition.js';
import { compileCondition, conditionFunctionBody, ConditionError } from './condition.js';
import { declaredTwice } from './declared.js';
import { routingColumns, TriggerDefinitionError } from './routing.js';

/** Where a name declared twice in one sync was declared, for the error. */
const SYNCED = 'the triggers synced';

/** Arbitrary but fixed: "3fev" in ASCII. */
const SYNC_LOCK_KEY = 0x33666576;

export interface SyncResult {
  changed: string[];
  capture: CaptureChange[];
  undeclared: string[];
  /** threefactor.trigger_condition was rewritten (a condition was added, changed or removed). */
  conditionsChanged: boolean;
}

export async function syncTriggers(sql: Sql, definitions: TriggerDefinition[], log?: Logger): Promise<SyncResult> {
  const seen = new Set<string>();
  const upserts = definitions.map((definition) => {
    if (seen.has(definition.name)) throw new TriggerDefinitionError(declaredTwice(definition.name, SYNCED, SYNCED));
    seen.add(definition.name);
    return { definition, routing: routingColumns(definition) };
  });
  const result = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SYNC_LOCK_KEY})`;
    const { changed } = upserts.length ? await upsertTriggers(tx, upserts) : { changed: [] };
    const capture = await syncCapture(tx);
    const stored = await loadTriggers(tx);
    const conditionsChanged = await replaceTriggerCondition(tx, conditionFunctionBody(compiledConditions(stored, seen)));
    return { changed, capture, undeclared: stored.map((r) => r.name).filter((n) => !seen.has(n)), conditionsChanged };
  });
  if (result.changed.length) log?.info({ triggers: result.changed }, 'event triggers updated');
  for (const c of result.capture) log?.info({ table: c.table, action: c.action }, 'table capture trigger changed');
  if (result.conditionsChanged) log?.info('trigger conditions recompiled');
  if (result.undeclared.length && definitions.length) {
    log?.warn({ triggers: result.undeclared }, 'event triggers in the database are not declared by this process');
  }
  return result;
}

/**
 * Every stored condition, compiled. A declared one was validated above; one
 * stored by another version that this one cannot read fails the sync rather
 * than routing that trigger's changes by a guess.
 */
function compiledConditions(stored: readonly StoredTrigger[], declared: ReadonlySet<string>): Array<{ name: string; sql: string }> {
  return stored
    .filter((t) => t.definition.condition != null)
    .map((t) => {
      try {
        return { name: t.name, sql: compileCondition(t.definition.condition, t.definition.match.kind) };
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err;
        const where = declared.has(t.name) ? '' : ' (stored, not declared by this process)';
        throw new TriggerDefinitionError(`event trigger "${t.name}"${where}: condition: ${err.message}`);
      }
    });
}
