/**
 * Pause and resume a trigger. While paused, its deliveries are still created
 * (nothing is missed) but not claimed; on resume they flow in order. A
 * trigger is paused by an operator ('manual') or by the dispatcher when its
 * endpoint answers 410 Gone (dispatcher/attempts.ts); either way the first
 * reason is kept until the resume clears it.
 */
import type { Database } from '../../db/client.js';
import { setTriggerPaused } from '../sql/setTriggerPaused.js';
import { wakeDispatchers } from '../sql/wakeDispatchers.js';

/** False when there is no trigger of that name. */
export async function pauseTrigger(database: Pick<Database, 'sql'>, name: string, reason = 'manual'): Promise<boolean> {
  return (await setTriggerPaused(database.sql, name, true, reason)) !== 'not found';
}

/** True only when this call paused it: an already paused trigger keeps its first reason. */
export async function pauseTriggerOnce(database: Pick<Database, 'sql'>, name: string, reason: string): Promise<boolean> {
  return (await setTriggerPaused(database.sql, name, true, reason)) === 'changed';
}

export async function resumeTrigger(database: Pick<Database, 'sql'>, name: string): Promise<boolean> {
  const found = (await setTriggerPaused(database.sql, name, false)) !== 'not found';
  if (found) await wakeDispatchers(database.sql);
  return found;
}
