/**
 * Wakes every dispatcher (they LISTEN on this channel) after deliveries
 * became claimable without a new event: resume, redeliver, replay.
 */
import { DELIVERIES_CHANNEL } from '../channels.js';
import type { Queryable } from './queryable.js';

export async function wakeDispatchers(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`;
}
