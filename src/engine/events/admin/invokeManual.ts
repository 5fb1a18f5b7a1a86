/**
 * Hasura's manual invocation: send a row to a table trigger that enables it
 * (enable_manual), as op MANUAL. The row goes through the event log.
 */
import type { Database } from '../../db/client.js';
import { insertManualDelivery } from '../sql/insertManualDelivery.js';
import { loadTriggers } from '../sql/loadTriggers.js';

export class ManualInvocationError extends Error {
  override name = 'ManualInvocationError';
}

export async function invokeManual(
  database: Pick<Database, 'sql'>,
  trigger: string,
  row: Record<string, unknown>,
): Promise<{ deliveryId: string; eventId: string }> {
  const def = (await loadTriggers(database.sql)).find((t) => t.name === trigger)?.definition;
  if (!def) throw new ManualInvocationError(`no event trigger named "${trigger}"`);
  if (def.match.kind !== 'table' || !def.match.enableManual) {
    throw new ManualInvocationError(`event trigger "${trigger}" does not allow manual invocation (enable_manual)`);
  }
  const created = await insertManualDelivery(database.sql, trigger, row);
  if (!created) throw new ManualInvocationError(`event trigger "${trigger}" disappeared`);
  return created;
}
