/**
 * A live list of orders for the restaurant and driver panes. The list is a
 * query watched in the actor's cache; the subscription's pushes land in that
 * cache (a changed order by its id, a new one at the top: ./client.ts), so
 * the list redraws itself. The query runs again from the network after a
 * reconnect, for what changed while no push could arrive, and after a
 * refused mutation, since what was shown was stale. It never runs on a timer.
 */
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { createActorClient, live, requestError, run, type ActorClient, type GraphQLRequestError, type LiveState } from '../client.js';
import { fill, flashError, placeholder } from '../dom.js';
import type { OrderFieldsFragment } from '../gql/graphql.js';
import type { Actor } from '../tokens.js';

const MAX_SHOWN = 30;

type Connection = { edges: Array<{ node: OrderFieldsFragment }> };

/** Runs a mutation as the feed's actor; a refusal is shown in the pane. */
export type Act = <D, V extends AnyVariables>(button: HTMLButtonElement, mutation: TypedDocumentNode<D, V>, variables: V) => void;

export interface OrderFeedOptions<Q, S> {
  list: HTMLElement;
  actor: Actor;
  query: TypedDocumentNode<Q, Record<string, never>>;
  subscription: TypedDocumentNode<S, Record<string, never>>;
  connection(data: Q): Connection;
  setLive(state: LiveState): void;
  empty: string;
  renderCard(order: OrderFieldsFragment, act: Act): HTMLElement;
}

export interface OrderFeed {
  stop(): void;
}

export function createOrderFeed<Q, S>(opts: OrderFeedOptions<Q, S>): OrderFeed {
  const { list, query, subscription, connection, setLive, renderCard, empty } = opts;
  const actor: ActorClient = createActorClient(opts.actor, setLive);
  // After stop, answers still in flight must not draw into a list another feed now owns.
  let stopped = false;
  fill(list, placeholder('loading', 'Loading orders…'));

  const reload = () => {
    run(actor, query, {}).catch((err: unknown) => !stopped && flashError(list, err));
  };

  const act: Act = (button, mutation, variables) => {
    button.disabled = true;
    run(actor, mutation, variables).catch((err: unknown) => {
      if (stopped) return;
      flashError(list, err);
      button.disabled = false;
      const code = (err as Partial<GraphQLRequestError>).code;
      if (code === 'ILLEGAL_TRANSITION' || code === 'CONFLICT') reload();
    });
  };

  function render(orders: OrderFieldsFragment[]): void {
    const newest = [...orders].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).slice(0, MAX_SHOWN);
    fill(list, newest.length ? newest.map((o) => renderCard(o, act)) : placeholder('empty', empty));
  }

  // The list as the cache has it, redrawn on every change to it.
  const watched = actor.client.query(query, {}, { requestPolicy: 'cache-and-network' }).subscribe((result) => {
    if (stopped) return;
    if (result.error && !result.data) fill(list, placeholder('error', requestError(result.error).message));
    else if (result.data) render(connection(result.data).edges.map((e) => e.node));
  });
  const pushes = live(actor, subscription, () => ({}), { next: () => {}, error: (err) => flashError(list, err) });
  const offReconnect = actor.onReconnect(reload);

  return {
    stop() {
      stopped = true;
      offReconnect();
      pushes.stop();
      watched.unsubscribe();
      actor.dispose();
    },
  };
}
