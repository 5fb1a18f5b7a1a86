/**
 * The demo's identities: short-lived JWTs for every seeded actor from the
 * dev-only /demo/tokens route, fetched again shortly before they expire (a
 * reconnecting socket always asks, so it gets a fresh one).
 *
 * Where there is no token route (production, console only) the admin is the
 * operator: the token they enter in the console's form, kept in this tab's
 * sessionStorage only (gone when the tab closes; never in localStorage).
 */

import type { DemoActor, DemoTokens } from '../../src/apps/food-delivery/demo/tokenTypes.js';

export type { DemoActor, DemoTokens };

/** Whom a client acts as. */
export type Actor = { kind: 'admin' } | { kind: 'customers' | 'restaurants' | 'drivers'; id: string };

const REFRESH_MARGIN_MS = 2 * 60_000;
let tokens: DemoTokens | undefined;
let pending: Promise<DemoTokens> | undefined;

export async function demoTokens(): Promise<DemoTokens> {
  if (tokens && Date.parse(tokens.expiresAt) - Date.now() > REFRESH_MARGIN_MS) return tokens;
  pending ??= fetch('/demo/tokens', { cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok) throw new Error(`GET /demo/tokens: ${res.status} ${await res.text()}`);
      tokens = (await res.json()) as DemoTokens;
      return tokens;
    })
    .finally(() => (pending = undefined));
  return pending;
}

const OPERATOR_TOKEN = 'threefactor.operatorToken';

/** The token the operator entered (production console), if any. */
export function operatorToken(): string | undefined {
  return sessionStorage.getItem(OPERATOR_TOKEN) ?? undefined;
}

/** Set (or, with undefined, forget) the operator's admin token; the admin then acts on it instead of a dev token. */
export function setOperatorToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(OPERATOR_TOKEN, token);
  else sessionStorage.removeItem(OPERATOR_TOKEN);
}

export async function tokenFor(actor: Actor): Promise<string> {
  if (actor.kind === 'admin') {
    const entered = operatorToken();
    if (entered) return entered;
  }
  const all = await demoTokens();
  const found = actor.kind === 'admin' ? all.admin : all[actor.kind].find((a) => a.id === actor.id);
  if (!found) throw new Error(`No demo token for ${actor.kind === 'admin' ? 'admin' : `${actor.kind} ${actor.id}`}`);
  return found.token;
}
