/** Pauses or resumes a trigger; false when no trigger has that name. */
import type { Queryable } from './queryable.js';

export async function setTriggerPaused(sql: Queryable, name: string, paused: boolean): Promise<boolean> {
  const rows = await sql`
    update threefactor.event_triggers
    set paused = ${paused}, updated_at = now()
    where name = ${name}
    returning name`;
  return rows.length > 0;
}
