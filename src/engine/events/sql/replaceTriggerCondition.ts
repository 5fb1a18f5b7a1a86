/**
 * Gives threefactor.trigger_condition the body sync compiled from every
 * stored condition (threefactor.replace_trigger_condition in
 * drizzle/engine/…_delivery_policy: no catalog write when the body is
 * unchanged, and the new body is run once before the sync commits). Returns
 * whether it changed.
 */
import type { Queryable } from './queryable.js';

export async function replaceTriggerCondition(sql: Queryable, body: string): Promise<boolean> {
  const [row] = await sql<{ changed: boolean }[]>`select threefactor.replace_trigger_condition(${body}::text) as changed`;
  return row?.changed ?? false;
}
