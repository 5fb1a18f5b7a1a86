/**
 * Wakes every dispatcher (they LISTEN on this channel) after deliveries
 * became claimable without a new event: resume, redeliver, replay.
 */
import type { Queryable } from './queryable.js';

export const DELIVERIES_CHANNEL = 'threefactor_deliveries';

export async function wakeDispatchers(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`;
}
