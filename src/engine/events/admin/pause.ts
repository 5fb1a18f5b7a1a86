/**
 * Pause and resume a trigger. While paused, its deliveries are still created
 * (nothing is missed) but not claimed; on resume they flow in order.
 */
import type { Database } from '../../db/client.js';
import { setTriggerPaused } from '../sql/setTriggerPaused.js';
import { wakeDispatchers } from '../sql/wakeDispatchers.js';

/** False when there is no trigger of that name. */
export async function pauseTrigger(database: Pick<Database, 'sql'>, name: string): Promise<boolean> {
  return setTriggerPaused(database.sql, name, true);
}

export async function resumeTrigger(database: Pick<Database, 'sql'>, name: string): Promise<boolean> {
  const found = await setTriggerPaused(database.sql, name, false);
  if (found) await wakeDispatchers(database.sql);
  return found;
}
