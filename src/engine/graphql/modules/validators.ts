/**
 * Input rules shared by several modules' arguments (zod, run by
 * @pothos/plugin-validation before any resolver, failing as BAD_USER_INPUT).
 */
import { z } from 'zod';

/** Every row id is a UUID; checking it here keeps malformed ids away from PostgreSQL casts. */
export const uuid = z.uuid({ error: 'must be a UUID' });

/** Free-text reasons (rejection, decline, payment failure) stored on the order. */
export const reason = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');

/** Event types one filter may list: far more than any app has, far below PostgreSQL's 65,535 bind parameters. */
export const MAX_FILTER_TYPES = 1_000;

/** The `types` list of an event filter (admin event log, replay, the events stream). */
export const eventTypes = z.array(z.string()).max(MAX_FILTER_TYPES, `must list at most ${MAX_FILTER_TYPES} types`).nullish();
