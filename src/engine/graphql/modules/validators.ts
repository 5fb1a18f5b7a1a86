/**
 * Input rules shared by several modules' arguments (zod, run by
 * @pothos/plugin-validation before any resolver, failing as BAD_USER_INPUT).
 */
import { z } from 'zod';

/** Every row id is a UUID; checking it here keeps malformed ids away from PostgreSQL casts. */
export const uuid = z.uuid({ error: 'must be a UUID' });

/** Free-text reasons (rejection, decline, payment failure) stored on the order. */
export const reason = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');
