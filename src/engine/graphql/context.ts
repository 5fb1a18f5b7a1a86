/**
 * The per-operation GraphQL context. Built once per HTTP request or per
 * subscription, always from an authenticated viewer: there is no anonymous
 * context.
 */
import type { Database } from '../db/client.js';
import type { EventContext } from '../events/transaction.js';
import type { Logger } from '../log.js';
import type { Realtime } from '../realtime/realtime.js';

export const ROLES = ['customer', 'restaurant', 'driver', 'service', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated principal. `sub` is the customer, restaurant or driver id for those roles. */
export interface Viewer {
  sub: string;
  role: Role;
  /** When the token that proved this viewer expires (epoch ms); absent for a token without `exp`. */
  expiresAt?: number;
}

export interface Context {
  viewer: Viewer;
  database: Database;
  log: Logger;
  requestId: string;
  /** Actor, trace and the ids of events this operation wrote. */
  events: EventContext;
  /** The process's realtime hub and feeds, for subscriptions. */
  realtime: Realtime;
}

/** Hasura-compatible session variables for the events a viewer causes. */
export function sessionVariables(viewer: Viewer): Record<string, string> {
  return { 'x-hasura-role': viewer.role, 'x-hasura-user-id': viewer.sub };
}
