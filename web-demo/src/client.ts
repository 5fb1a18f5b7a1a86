/**
 * How the demo talks to the API, once per actor: an urql client whose
 * queries and mutations go over fetch and whose subscriptions go over one
 * graphql-ws socket (a connection is authenticated once, by its
 * connectionParams, so each actor has its own). Its cache is graphcache,
 * keyed by id, behind the version rule of ./orderVersions.ts.
 *
 * Resuming is this module's too. graphql-ws re-subscribes after a reconnect
 * with the variables an operation first had, which would replay an order
 * from scratch and an event stream from its first cursor. So a `live()`
 * subscription is rebuilt on every reconnect (on graphql-ws's `connected`,
 * before it re-subscribes the old ones) from a function that gives the
 * variables now: an order's `afterVersion`, the event log's cursor.
 */
import { Client, fetchExchange, subscriptionExchange, type AnyVariables, type CombinedError, type TypedDocumentNode } from '@urql/core';
import { cacheExchange, type Cache, type UpdateResolver } from '@urql/exchange-graphcache';
import { createClient as createWsClient } from 'graphql-ws/client';
import { DRIVER_JOBS, RESTAURANT_ORDERS } from './operations.js';
import { orderVersionExchange } from './orderVersions.js';
import { tokenFor, type Actor } from './tokens.js';

export type LiveState = 'idle' | 'connecting' | 'connected' | 'closed';

/** A GraphQL refusal as the views use it: the server's message, and the first error's code and extensions. */
export class GraphQLRequestError extends Error {
  readonly code: string | undefined;
  readonly extensions: Record<string, unknown>;
  constructor(messages: string[], extensions: Record<string, unknown> = {}) {
    super(messages.join('; '));
    this.name = 'GraphQLRequestError';
    this.extensions = extensions;
    this.code = typeof extensions.code === 'string' ? extensions.code : undefined;
  }
}

export function requestError(error: CombinedError): Error {
  if (error.graphQLErrors.length) {
    return new GraphQLRequestError(
      error.graphQLErrors.map((e) => e.message),
      error.graphQLErrors[0]?.extensions ?? {},
    );
  }
  return new Error(error.networkError?.message ?? error.message);
}

/** A pushed order not yet in a feed's list goes to its top (the list query's cache entry). */
function prependTo(query: typeof RESTAURANT_ORDERS | typeof DRIVER_JOBS, field: 'restaurantOrders' | 'driverJobs'): UpdateResolver {
  return (result, _args, cache: Cache) => {
    const pushed = result[field] as { id?: string } | null | undefined;
    if (!pushed?.id) return;
    cache.updateQuery({ query }, (data) => {
      if (!data) return data;
      const connection = (data as Record<string, { edges: Array<{ node: { id: string } }> }>)[field];
      if (!connection || connection.edges.some((edge) => edge.node.id === pushed.id)) return data;
      return { ...data, [field]: { ...connection, edges: [{ __typename: 'OrderEdge', node: pushed }, ...connection.edges] } } as typeof data;
    });
  };
}

export interface ActorClient {
  readonly actor: Actor;
  readonly client: Client;
  /** Run `start` now and again on every reconnect; returns a stop function. */
  onReconnect(listener: () => void): () => void;
  dispose(): void;
}

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

export interface ActorClientOptions {
  /**
   * false: no normalized cache, every result as the server sent it (the
   * operations console: its lists are re-read on the engine's events, and a
   * cache keyed by id would only have to be taught each of its types).
   */
  normalized?: boolean;
  /**
   * true: open the WebSocket only when a subscription starts. A one-off
   * query (the console's token probe) then never races its own socket's
   * connectionParams against the token it is about to forget.
   */
  lazy?: boolean;
}

export function createActorClient(actor: Actor, onState: (state: LiveState) => void = () => {}, { normalized = true, lazy = false }: ActorClientOptions = {}): ActorClient {
  const reconnects = new Set<() => void>();
  const ws = createWsClient({
    url: wsUrl(),
    // By default connect at once, so a pane shows it is live before it has anything to watch.
    lazy,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    // Retry on every close, auth ones included: the next attempt brings a fresh token.
    shouldRetry: () => true,
    connectionParams: async () => ({ authorization: `Bearer ${await tokenFor(actor)}` }),
    on: {
      connecting: () => onState('connecting'),
      connected: (_socket, _payload, wasRetry) => {
        onState('connected');
        // Synchronously, before graphql-ws re-subscribes: a rebuilt subscription replaces the stale one.
        if (wasRetry) for (const listener of [...reconnects]) listener();
      },
      closed: () => onState('closed'),
    },
  });

  const client = new Client({
    url: '/graphql',
    // POST for queries too: the API's bodies are small, and one method keeps its logs and CSP simple.
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await tokenFor(actor)}`);
      return fetch(input, { ...init, headers });
    },
    exchanges: [
      normalized && cacheExchange({
        // Embedded (no id of their own, or one the demo does not select): stored under their parent.
        keys: {
          OrderConnection: () => null,
          OrderEdge: () => null,
          OrderItem: () => null,
          EventConnection: () => null,
          EventEdge: () => null,
          PageInfo: () => null,
          // A causal tree is one value, replaced whole by each push.
          CausalTree: () => null,
          CausalEvent: () => null,
          CausalDelivery: () => null,
          CausalAttempt: () => null,
        },
        updates: {
          Subscription: {
            restaurantOrders: prependTo(RESTAURANT_ORDERS, 'restaurantOrders'),
            driverJobs: prependTo(DRIVER_JOBS, 'driverJobs'),
          },
        },
      }),
      normalized && orderVersionExchange(),
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ].filter((exchange) => exchange !== false),
  });

  return {
    actor,
    client,
    onReconnect(listener) {
      reconnects.add(listener);
      return () => reconnects.delete(listener);
    },
    dispose() {
      reconnects.clear();
      void ws.dispose();
    },
  };
}

/** A query's or mutation's data, or its error thrown. */
export async function run<D, V extends AnyVariables>(actor: ActorClient, document: TypedDocumentNode<D, V>, variables: V, policy: 'network-only' | 'cache-first' = 'network-only'): Promise<D> {
  return (await runWithExtensions(actor, document, variables, policy)).data;
}

/** What a mutation wrote (`extensions.threefactor`, src/engine/server/mutationEvents.ts): its events' ids, in order. */
export interface WrittenEvents {
  events: string[];
  cursor?: string;
}

/** run(), with the answer's `extensions.threefactor` (a mutation's events). */
export async function runWithExtensions<D, V extends AnyVariables>(
  actor: ActorClient,
  document: TypedDocumentNode<D, V>,
  variables: V,
  policy: 'network-only' | 'cache-first' = 'network-only',
): Promise<{ data: D; written: WrittenEvents | undefined }> {
  const result = document.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'mutation')
    ? await actor.client.mutation(document, variables).toPromise()
    : await actor.client.query(document, variables, { requestPolicy: policy }).toPromise();
  if (result.error) throw requestError(result.error);
  if (!result.data) throw new Error('The API answered without data');
  const written = (result.extensions as { threefactor?: WrittenEvents } | undefined)?.threefactor;
  return { data: result.data, written: Array.isArray(written?.events) ? written : undefined };
}

export interface LiveSubscription {
  /** Start again now, with the variables of this moment (after SLOW_CONSUMER, say). */
  restart(): void;
  stop(): void;
}

/**
 * A subscription that resumes: `variables()` is asked at each (re)start, so a
 * reconnect continues from the newest state the page has.
 */
export function live<D, V extends AnyVariables>(
  actor: ActorClient,
  document: TypedDocumentNode<D, V>,
  variables: () => V,
  sink: { next(data: D): void; error(err: Error): void },
): LiveSubscription {
  let current: { unsubscribe(): void } | undefined;
  let stopped = false;
  const start = () => {
    current?.unsubscribe();
    if (stopped) return;
    current = actor.client.subscription(document, variables()).subscribe((result) => {
      if (result.error) sink.error(requestError(result.error));
      else if (result.data) sink.next(result.data);
    });
  };
  const off = actor.onReconnect(start);
  start();
  return {
    restart: start,
    stop() {
      stopped = true;
      off();
      current?.unsubscribe();
    },
  };
}
