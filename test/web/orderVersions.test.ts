/**
 * The demo's cache rule (web-demo/src/orderVersions.ts) with real urql
 * objects: an urql Client with graphcache, the version gate, and a network
 * exchange that delivers results in the order a test chooses, so an older
 * state of an order arrives after a newer one, as a push queued behind a
 * reconnect or a late query answer would. What the subscriber sees, and
 * what graphcache holds, stays the newest.
 */
import { Client, makeResult, type Exchange, type Operation } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { filter, makeSubject, map, mergeMap, pipe, type Subject } from 'wonka';
import { describe, expect, it } from 'vitest';
import { MyLatestOrderDocument, OrderLiveDocument, type OrderFieldsFragment } from '../../web-demo/src/gql/graphql.js';
import { gateOrders, orderVersionExchange, type OrderVersions } from '../../web-demo/src/orderVersions.js';

const ORDER_ID = '8d5b2a4e-0000-4000-8000-000000000001';

function order(version: number, status: OrderFieldsFragment['status']): OrderFieldsFragment & { __typename: 'Order' } {
  return {
    __typename: 'Order',
    id: ORDER_ID,
    status,
    version,
    totalCents: 2550,
    deliveryAddress: '1 Demo Street',
    statusReason: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    restaurant: { __typename: 'Restaurant', id: 'r1', name: 'Pizzeria Napoli' } as OrderFieldsFragment['restaurant'],
    driver: null,
    items: [],
  };
}

/** A network that answers each operation from its own subject, when the test says. */
function scriptedNetwork(): { exchange: Exchange; answer(kind: Operation['kind'], data: unknown): void } {
  const subjects = new Map<Operation['kind'], Subject<unknown>>();
  const subject = (kind: Operation['kind']) => subjects.get(kind) ?? subjects.set(kind, makeSubject()).get(kind)!;
  const exchange: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind === 'query' || op.kind === 'subscription'),
      mergeMap((op) => pipe(subject(op.kind).source, map((data) => makeResult(op, { data: data as Record<string, unknown> })))),
    );
  return { exchange, answer: (kind, data) => subject(kind).next(data) };
}

describe('orderVersionExchange', () => {
  it('keeps the newest version of an order when an older one arrives later, in what subscribers see and in graphcache', async () => {
    const network = scriptedNetwork();
    const client = new Client({
      url: 'http://unused.invalid/graphql',
      exchanges: [cacheExchange({ keys: { OrderConnection: () => null, OrderEdge: () => null } }), orderVersionExchange(), network.exchange],
    });
    const seen: Array<[number, string]> = [];
    const sub = client.subscription(OrderLiveDocument, { id: ORDER_ID }).subscribe((r) => r.data && seen.push([r.data.order.version, r.data.order.status]));
    try {
      network.answer('subscription', { __typename: 'Subscription', order: order(3, 'paid') });
      network.answer('subscription', { __typename: 'Subscription', order: order(2, 'validated') }); // late, older
      network.answer('subscription', { __typename: 'Subscription', order: order(4, 'approved') });
      expect(seen).toEqual([
        [3, 'paid'],
        [3, 'paid'],
        [4, 'approved'],
      ]);

      // A query answered with an older state (a replica, a slow request) does not move the order back either.
      const answered = client.query(MyLatestOrderDocument, {}, { requestPolicy: 'network-only' }).toPromise();
      network.answer('query', {
        __typename: 'Query',
        myOrders: { __typename: 'OrderConnection', edges: [{ __typename: 'OrderEdge', node: order(1, 'placed') }] },
      });
      const latest = await answered;
      expect(latest.data?.myOrders.edges[0]?.node).toMatchObject({ version: 4, status: 'approved' });
      // graphcache holds the newest, keyed by id.
      const cached = client.readQuery(MyLatestOrderDocument, {}, { requestPolicy: 'cache-only' });
      expect(cached?.data?.myOrders.edges[0]?.node).toMatchObject({ version: 4, status: 'approved' });
    } finally {
      sub.unsubscribe();
    }
  });

  it('without the gate, graphcache lets the late older state win (why the rule exists)', () => {
    const network = scriptedNetwork();
    const client = new Client({ url: 'http://unused.invalid/graphql', exchanges: [cacheExchange({}), network.exchange] });
    const seen: number[] = [];
    const sub = client.subscription(OrderLiveDocument, { id: ORDER_ID }).subscribe((r) => r.data && seen.push(r.data.order.version));
    network.answer('subscription', { __typename: 'Subscription', order: order(3, 'paid') });
    network.answer('subscription', { __typename: 'Subscription', order: order(2, 'validated') });
    sub.unsubscribe();
    expect(seen).toEqual([3, 2]);
  });

  it('merges two documents’ fields at the same version, and finds orders nested anywhere in a result', () => {
    const newest: OrderVersions = new Map();
    gateOrders(newest, { order: { __typename: 'Order', id: 'a', version: 5, status: 'paid' } });
    gateOrders(newest, { order: { __typename: 'Order', id: 'a', version: 5, totalCents: 100 } });
    expect(newest.get('a')).toMatchObject({ version: 5, status: 'paid', totalCents: 100 });
    const gated = gateOrders(newest, { payOrder: { __typename: 'Payment', order: { __typename: 'Order', id: 'a', version: 4, status: 'validated', totalCents: 90 } } });
    expect(gated).toEqual({ payOrder: { __typename: 'Payment', order: { __typename: 'Order', id: 'a', version: 5, status: 'paid', totalCents: 100 } } });
  });
});
