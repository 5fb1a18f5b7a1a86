// How the demo talks to the API: queries and mutations are POSTed to /graphql
// with fetch; subscriptions use the graphql-ws browser client (loaded as the
// global `graphqlWs` from /demo/vendor/graphql-ws.js), one WebSocket per actor
// because a connection is authenticated once, by its connectionParams.
// Tokens come from the dev-only /demo/tokens route and are fetched again
// shortly before they expire; a reconnecting socket always asks for a fresh one.

const REFRESH_MARGIN_MS = 2 * 60_000;
let tokens;
let pending;

/** All demo actors with their tokens: { admin, customers[], restaurants[], drivers[], expiresAt }. */
export async function demoTokens() {
  if (tokens && Date.parse(tokens.expiresAt) - Date.now() > REFRESH_MARGIN_MS) return tokens;
  pending ??= fetch('/demo/tokens', { cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok) throw new Error(`GET /demo/tokens: ${res.status} ${await res.text()}`);
      tokens = await res.json();
      return tokens;
    })
    .finally(() => (pending = undefined));
  return pending;
}

/** An actor is { kind: 'customers' | 'restaurants' | 'drivers' | 'admin', id }. */
async function tokenFor(actor) {
  const all = await demoTokens();
  const found = actor.kind === 'admin' ? all.admin : all[actor.kind].find((a) => a.id === actor.id);
  if (!found) throw new Error(`No demo token for ${actor.kind} ${actor.id}`);
  return found.token;
}

export class GraphQLRequestError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'GraphQLRequestError';
    this.code = errors[0]?.extensions?.code;
    this.extensions = errors[0]?.extensions ?? {};
  }
}

/** Run a query or mutation as `actor`; resolves to `data`, rejects with the GraphQL errors. */
export async function request(actor, query, variables = {}) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(actor)}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json().catch(() => ({ errors: [{ message: `HTTP ${res.status}` }] }));
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  return body.data;
}

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

/**
 * A graphql-ws client acting as `actor`. `onState(state)` hears
 * 'connecting' | 'connected' | 'closed' so a pane can show that it is live;
 * `onReconnected()` runs when a dropped socket is back (graphql-ws has then
 * resubscribed everything with its first variables).
 */
export function liveClient(actor, onState = () => {}, onReconnected = () => {}) {
  const client = globalThis.graphqlWs.createClient({
    url: wsUrl(),
    // Connect at once, so a pane shows it is live before it has anything to watch.
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    // Retry on every close, auth ones included: the next attempt brings a fresh token.
    shouldRetry: () => true,
    connectionParams: async () => ({ authorization: `Bearer ${await tokenFor(actor)}` }),
    on: {
      connecting: () => onState('connecting'),
      connected: (_socket, _payload, wasRetry) => {
        onState('connected');
        if (wasRetry) onReconnected();
      },
      closed: () => onState('closed'),
    },
  });
  return {
    /** Subscribe; `next(data)` per result. Returns the unsubscribe function. */
    subscribe(query, variables, { next, error = () => {} }) {
      return client.subscribe(
        { query, variables },
        {
          next: (result) => (result.errors?.length ? error(new GraphQLRequestError(result.errors)) : next(result.data)),
          error: (err) => error(err instanceof Error ? err : new Error(describeClose(err))),
          complete: () => {},
        },
      );
    },
    dispose: () => client.dispose(),
  };
}

function describeClose(err) {
  if (Array.isArray(err)) return err.map((e) => e.message).join('; ');
  if (err && typeof err === 'object' && 'code' in err) return `socket closed (${err.code} ${err.reason ?? ''})`;
  return String(err);
}
