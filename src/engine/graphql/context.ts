/**
 * The per-operation GraphQL context. Built once per HTTP request or per
 * subscription, always from an authenticated viewer: there is no anonymous
 * context.
 */
import type { Database } from '../db/client.js';
import type { EventContext } from '../events/transaction.js';
import type { Logger } from '../log.js';
import type { Realtime } from '../realtime/realtime.js';

/** The roles the engine itself knows: a handler writing back (service) and an operator (admin). */
export const ENGINE_ROLES: readonly Role[] = ['service', 'admin'];

/**
 * A viewer's role: one of the engine's or one the app adds (`App.roles`). A
 * string, because the engine does not know an app's roles; the authenticator
 * lets no other through, and an app narrows it where it needs to.
 */
export type Role = string;

/** Every role a token may carry: the app's, then the engine's. An app can't redefine an engine role. */
export function acceptedRoles(appRoles: readonly string[]): readonly Role[] {
  const clash = appRoles.find((role) => ENGINE_ROLES.includes(role));
  if (clash) throw new Error(`app role "${clash}" is one of the engine's own (${ENGINE_ROLES.join(', ')})`);
  return [...appRoles, ...ENGINE_ROLES];
}

/** The authenticated principal. For an app's roles, `sub` is usually the id of the viewer's row. */
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
