/**
 * Pauses or resumes a trigger, with the pause's reason and time. Pausing is
 * idempotent and keeps the first reason: a second 410 (or an admin's pause
 * on top of one) must not hide why the trigger stopped. Resuming clears both.
 * A pause or resume that changed something appends `threefactor.trigger.paused`
 * or `.resumed` (../engineEvents.ts) in the same statement.
 */
import { ENGINE_AGGREGATES, ENGINE_EVENTS } from '../engineEvents.js';
import type { Queryable } from './queryable.js';

/** 'changed': this call paused (or resumed) it; 'unchanged': it already was. */
export type TriggerPauseChange = 'changed' | 'unchanged' | 'not found';

/** `reason` is kept only by a pause ('manual' when an operator paused it). */
export async function setTriggerPaused(sql: Queryable, name: string, paused: boolean, reason = 'manual'): Promise<TriggerPauseChange> {
  // The locked read gives the state before this update, so only one of two concurrent pauses reports 'changed'.
  // A change appends its engine event in the same statement: the hub (and a causal tree showing the
  // trigger's deliveries as paused) learns of it with the commit.
  const rows = await sql<{ was_paused: boolean }[]>`
    with before as (
      select name, paused from threefactor.event_triggers where name = ${name} for update
    ),
    changed as (
      update threefactor.event_triggers as t
      set paused = ${paused},
          paused_reason = case when not ${paused} then null when t.paused then coalesce(t.paused_reason, ${reason}) else ${reason} end,
          paused_at = case when not ${paused} then null when t.paused then coalesce(t.paused_at, now()) else now() end,
          updated_at = now()
      from before
      where t.name = before.name
      returning t.name, t.paused_reason, before.paused as was_paused
    ),
    announced as (
      insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
      select ${paused ? ENGINE_EVENTS.triggerPaused : ENGINE_EVENTS.triggerResumed}, ${ENGINE_AGGREGATES.trigger}, c.name,
             jsonb_build_object('trigger', c.name, 'reason', c.paused_reason)
      from changed as c
      where c.was_paused <> ${paused}
    )
    select was_paused from changed`;
  const [row] = rows;
  if (!row) return 'not found';
  return row.was_paused === paused ? 'unchanged' : 'changed';
}
