/**
 * The cache rule urql's graphcache does not have: an older `version` of an
 * order never replaces a newer one. Graphcache keys every Order by its id
 * and writes whatever result comes last; over a subscription, a query and a
 * mutation's answer, the last to arrive is not always the newest (a query
 * answered from a replica, a push queued behind a reconnect, a reply that
 * lost the race with the push of the next step). This exchange sits between
 * graphcache and the network, so it sees every result before the cache
 * writes it: each Order in a result whose version is lower than the newest
 * seen for its id is swapped for that newest state. Every demo document
 * selects an order through the one OrderFields fragment, so the swap fits
 * the selection.
 */
import { mapExchange, type Exchange } from '@urql/core';

type Json = unknown;
type OrderLike = { __typename: 'Order'; id: string; version: number } & Record<string, unknown>;

const isOrder = (value: Record<string, unknown>): value is OrderLike =>
  value.__typename === 'Order' && typeof value.id === 'string' && typeof value.version === 'number';

/** Newest order state by id, as the gate has seen it. */
export type OrderVersions = Map<string, OrderLike>;

/** `data` with every stale Order replaced by the newest known; records the newer ones. Pure but for `newest`. */
export function gateOrders(newest: OrderVersions, data: Json): Json {
  if (Array.isArray(data)) return data.map((item) => gateOrders(newest, item));
  if (data === null || typeof data !== 'object') return data;
  const inner: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) inner[key] = gateOrders(newest, value);
  if (!isOrder(inner)) return inner;
  const known = newest.get(inner.id);
  if (known && known.version > inner.version) return { ...inner, ...known };
  // The same version from two documents: one state, so their fields merge.
  newest.set(inner.id, known && known.version === inner.version ? { ...known, ...inner } : inner);
  return inner;
}

export function orderVersionExchange(newest: OrderVersions = new Map()): Exchange {
  return mapExchange({
    onResult(result) {
      return result.data ? { ...result, data: gateOrders(newest, result.data) } : result;
    },
  });
}
