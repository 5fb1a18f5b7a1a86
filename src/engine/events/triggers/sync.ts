/**
 * Syncs trigger definitions from code (and Hasura metadata files) into
 * `event_triggers`, and the table-capture triggers with them, in one
 * transaction under an advisory lock: several processes starting at once
 * serialize here, and a sync that changes nothing writes nothing.
 *
 * Triggers in the database that were not declared are left as they are (a
 * process of another version may still declare them); they are reported so
 * an operator can see them.
 */
import type { Sql } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { syncCapture, type CaptureChange } from '../sql/syncCapture.js';
import { upsertTriggers } from '../sql/upsertTriggers.js';
import type { TriggerDefinition } from './triggerDefinition.js';
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
    const all = await tx<{ name: string }[]>`select name from threefactor.event_triggers`;
    return { changed, capture, undeclared: all.map((r) => r.name).filter((n) => !seen.has(n)) };
  });
  if (result.changed.length) log?.info({ triggers: result.changed }, 'event triggers updated');
  for (const c of result.capture) log?.info({ table: c.table, action: c.action }, 'table capture trigger changed');
  if (result.undeclared.length && definitions.length) {
    log?.warn({ triggers: result.undeclared }, 'event triggers in the database are not declared by this process');
  }
  return result;
}
