/** Redeliver: dead (or any finished) deliveries are sent again with a fresh retry budget. */
import type { Database } from '../../db/client.js';
import { redeliverDeliveries } from '../sql/redeliverDeliveries.js';
import { wakeDispatchers } from '../sql/wakeDispatchers.js';

/** Returns the ids made due now; running deliveries and unknown ids are skipped. */
export async function redeliver(database: Pick<Database, 'sql'>, ids: string[]): Promise<string[]> {
  const changed = await redeliverDeliveries(database.sql, ids);
  if (changed.length) await wakeDispatchers(database.sql);
  return changed;
}
