/**
 * What a client can learn about the schema in production: no introspection
 * (GRAPHQL_INTROSPECTION), no "Did you mean …" in any error
 * (GRAPHQL_SUGGESTIONS), and no validation answer at all before it is
 * authenticated (AUTH_BEFORE_VALIDATION). Outside production all three stay
 * developer-friendly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type GqlResult, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { wsSession } from '../support/subscriptions.js';

let db: TestDatabase;
let dev: TestApi;
let prod: TestApi;
let prodOpen: TestApi;

beforeAll(async () => {
  db = await freshDatabase();
  [dev, prod, prodOpen] = await Promise.all([
    startTestApi(db),
    startTestApi(db, { NODE_ENV: 'production' }),
    startTestApi(db, { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHQL_SUGGESTIONS: 'true', AUTH_BEFORE_VALIDATION: 'false' }),
  ]);
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close(), prodOpen?.close()]);
  await db?.drop();
});

const messages = (res: GqlResult) => (res.errors ?? []).map((e) => e.message);

/** Misspellings of every kind graphql-js answers with a suggestion, and the suggestion it makes. */
const MISSPELLINGS: Array<{ kind: string; query: string; variables?: Record<string, unknown>; role: 'customer' | 'restaurant'; suggests: RegExp }> = [
  { kind: 'field', query: '{ restaurantz { id } }', role: 'customer', suggests: /"restaurants"/ },
  { kind: 'argument', query: '{ restaurant(idd: "x", id: "y") { id } }', role: 'customer', suggests: /Did you mean "id"/ },
  { kind: 'type', query: 'query($s: OrderStatuss) { restaurantOrders(status: $s) { pageInfo { hasNextPage } } }', role: 'restaurant', suggests: /"OrderStatus"/ },
  { kind: 'enum value', query: '{ restaurantOrders(status: placd) { pageInfo { hasNextPage } } }', role: 'restaurant', suggests: /enum value "placed"/ },
  {
    kind: 'enum value in a variable',
    query: 'query($s: OrderStatus) { restaurantOrders(status: $s) { pageInfo { hasNextPage } } }',
    variables: { s: 'placd' },
    role: 'restaurant',
    suggests: /"placed"/,
  },
  {
    kind: 'input field',
    query: 'mutation { placeOrder(input: { restaurantId: "x", deliveryAddress: "a", itemz: [] }) { id } }',
    role: 'customer',
    suggests: /"items"/,
  },
  {
    kind: 'input field in a variable',
    query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
    variables: { input: { restaurantId: 'x', deliveryAddress: 'a', items: [], restaurantID: 'y' } },
    role: 'customer',
    suggests: /"restaurantId"/,
  },
];

describe('suggestions', () => {
  it('are stripped from every error in production, whatever was misspelled', async () => {
    for (const m of MISSPELLINGS) {
      const res = await prod.gql(m.query, m.variables, await prod.token(m.role, 'someone'));
      expect(res.errors?.length, m.kind).toBeGreaterThan(0);
      for (const message of messages(res)) {
        expect(message, m.kind).not.toMatch(/did you mean/i);
        expect(message, m.kind).not.toMatch(m.suggests);
        expect(message, m.kind).not.toContain('[Suggestion hidden]');
      }
    }
  });

  it('keep the rest of the message, so a client still knows what is wrong', async () => {
    const res = await prod.gql('{ restaurantz { id } }', undefined, await prod.token('customer', 'c'));
    expect(messages(res)).toEqual(['Cannot query field "restaurantz" on type "Query".']);
  });

  it('are kept outside production, and with GRAPHQL_SUGGESTIONS=true', async () => {
    for (const api of [dev, prodOpen]) {
      for (const m of MISSPELLINGS) {
        const res = await api.gql(m.query, m.variables, await api.token(m.role, 'someone'));
        expect(messages(res).join('\n'), m.kind).toMatch(m.suggests);
      }
    }
  });
});

describe('introspection', () => {
  const SCHEMA = '{ __schema { types { name } } }';
  const TYPE = '{ __type(name: "Delivery") { fields { name } } }';

  it('is refused in production, even to an admin', async () => {
    const admin = await prod.token('admin', 'ops');
    for (const query of [SCHEMA, TYPE]) {
      const res = await prod.gql(query, undefined, admin);
      expect(res.data ?? null).toBeNull();
      expect(messages(res).join('\n')).toMatch(/introspection has been disabled/);
      expect(JSON.stringify(res)).not.toContain('Delivery"');
    }
    // __typename is not introspection: clients (Apollo, urql) add it to every selection.
    const typename = await prod.gql('{ __typename restaurants { __typename } }', undefined, await prod.token('customer', 'c'));
    expect(typename.errors).toBeUndefined();
    expect(typename.data).toEqual({ __typename: 'Query', restaurants: [] });
  });

  it('is refused over WebSocket too', async () => {
    const ws = wsSession(prod.url, await prod.token('admin', 'ops'));
    try {
      const feed = ws.subscribe(SCHEMA);
      await feed.untilCompleted();
      expect(feed.data).toEqual([]);
      expect(JSON.stringify(feed.failure)).toMatch(/introspection has been disabled/);
    } finally {
      await ws.dispose();
    }
  });

  it('answers outside production, and with GRAPHQL_INTROSPECTION=true', async () => {
    for (const api of [dev, prodOpen]) {
      const res = await api.gql<{ __schema: { types: Array<{ name: string }> } }>(SCHEMA, undefined, await api.token('admin', 'ops'));
      expect(res.errors).toBeUndefined();
      expect(res.data!.__schema.types.map((t) => t.name)).toContain('Delivery');
    }
  });
});

describe('authentication before validation', () => {
  const INVALID = ['{ restaurantz { id } }', '{ __schema { types { name } } }', 'query { restaurant { id } }', '{ deliveries(first: 1) { edges { node { nope } } } }'];

  it('answers an anonymous or forged request 401 in production before saying anything about the query', async () => {
    for (const query of INVALID) {
      for (const token of [undefined, 'not-a-jwt']) {
        const res = await prod.gql(query, undefined, token);
        expect(res.status, query).toBe(401);
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
        const text = JSON.stringify(res);
        for (const leak of ['Cannot query', 'restaurantz', 'introspection', 'argument', 'nope', 'Did you mean']) expect(text, query).not.toContain(leak);
      }
    }
  });

  it('still validates an authenticated request', async () => {
    const res = await prod.gql('{ restaurantz { id } }', undefined, await prod.token('customer', 'c'));
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(messages(res)[0]).toMatch(/^Cannot query field "restaurantz"/);
  });

  it('validates first outside production, and with AUTH_BEFORE_VALIDATION=false', async () => {
    for (const api of [dev, prodOpen]) {
      const res = await api.gql('{ restaurantz { id } }');
      expect(messages(res)[0]).toMatch(/^Cannot query field "restaurantz"/);
    }
  });
});
