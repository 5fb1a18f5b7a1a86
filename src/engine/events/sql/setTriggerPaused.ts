/**
 * Pauses or resumes a trigger, with the pause's reason and time. Pausing is
 * idempotent and keeps the first reason: a second 410 (or an admin's pause
 * on top of one) must not hide why the trigger stopped. Resuming clears both.
 */
import type { Queryable } from './queryable.js';

/** 'changed': this call paused (or resumed) it; 'unchanged': it already was. */
export type TriggerPauseChange = 'changed' | 'unchanged' | 'not found';

/** `reason` is kept only by a pause ('manual' when an operator paused it). */
export async function setTriggerPaused(sql: Queryable, name: string, paused: boolean, reason = 'manual'): Promise<TriggerPauseChange> {
  // The locked read gives the state before this update, so only one of two concurrent pauses reports 'changed'.
  const rows = await sql<{ was_paused: boolean }[]>`
    update threefactor.event_triggers as t
    set paused = ${paused},
        paused_reason = case when not ${paused} then null when t.paused then coalesce(t.paused_reason, ${reason}) else ${reason} end,
        paused_at = case when not ${paused} then null when t.paused then coalesce(t.paused_at, now()) else now() end,
        updated_at = now()
    from (select name, paused from threefactor.event_triggers where name = ${name} for update) as before
    where t.name = before.name
    returning before.paused as was_paused`;
  const [row] = rows;
  if (!row) return 'not found';
  return row.was_paused === paused ? 'unchanged' : 'changed';
}
