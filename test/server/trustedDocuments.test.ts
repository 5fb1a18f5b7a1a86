/**
 * Trusted documents (TRUSTED_DOCUMENTS, src/engine/server/trustedDocuments.ts)
 * against the real API on every transport: with the setting, only the
 * manifest's operations run, whether sent by id or as text, and an ad-hoc
 * query, mutation or subscription is refused over HTTP, SSE and graphql-ws
 * alike; without it (the default) anything valid runs, as before.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalDocument, loadTrustedDocuments, NOT_TRUSTED, UNKNOWN_DOCUMENT_ID } from '../../src/engine/server/trustedDocuments.js';
import { startTestApi, type GqlResult, type TestApi } from '../support/api.js';
import { ids, ok, refused } from '../support/orders.js';
import { sseSubscribe, wsSession } from '../support/subscriptions.js';
import { useTestApi } from '../support/useTestApi.js';

const MANIFEST = 'schema/trusted-documents.json';
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;

/** The manifest's entry for an operation, by name. */
function entry(name: string): { id: string; text: string } {
  const found = Object.entries(manifest).find(([, text]) => new RegExp(`(query|mutation|subscription) ${name}\\b`).test(text));
  if (!found) throw new Error(`${name} is not in ${MANIFEST}`);
  return { id: found[0], text: found[1] };
}

const ADHOC_QUERY = '{ restaurants { id name } }';
const ADHOC_SUBSCRIPTION = 'subscription($id: ID!) { order(id: $id) { id status } }';
/** RestaurantOrdersLive as a client would write it by hand: same operation, other layout, no fragment order. */
const RESTAURANTS_AS_URQL_SENDS_IT = `query Restaurants {
  restaurants {
    __typename
    menu { available description id name priceCents __typename }
    cuisine
    name
    id
  }
}`;

const env = useTestApi({ seed: true, overrides: { TRUSTED_DOCUMENTS: MANIFEST } });
let open: TestApi;
let orderId: string;

async function post(api: TestApi, body: Record<string, unknown>, token: string): Promise<GqlResult> {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as Omit<GqlResult, 'status'>) };
}

beforeAll(async () => {
  // The same database, without the setting: the default, and how the test sets an order up.
  open = await startTestApi(env.db);
  const placed = ok(
    await open.gql<{ placeOrder: { id: string } }>(
      'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
      { input: { restaurantId: ids.napoli, items: [{ menuItemId: ids.margherita, quantity: 1 }], deliveryAddress: '1 Trusted Street' } },
      env.tokens.alice,
    ),
  );
  orderId = placed.placeOrder.id;
});
afterAll(async () => {
  await open?.close();
});

describe('with TRUSTED_DOCUMENTS', () => {
  it('refuses an ad-hoc query over HTTP with BAD_REQUEST (400), and runs nothing', async () => {
    // 400 with the GraphQL-over-HTTP media type; a legacy application/json client gets 200 and the error.
    const res = await post(env.api, { query: ADHOC_QUERY }, env.tokens.alice);
    expect(res.status).toBe(400);
    expect(refused(res)).toEqual({ code: 'BAD_REQUEST', message: NOT_TRUSTED });
    expect(res.data ?? undefined).toBeUndefined();
  });

  it('refuses an ad-hoc mutation: no order is placed', async () => {
    const res = await env.api.gql(
      'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
      { input: { restaurantId: ids.napoli, items: [{ menuItemId: ids.margherita, quantity: 1 }], deliveryAddress: '2 Trusted Street' } },
      env.tokens.alice,
    );
    expect(refused(res).code).toBe('BAD_REQUEST');
    const mine = ok(await open.gql<{ myOrders: { edges: unknown[] } }>('{ myOrders(first: 10) { edges { cursor } } }', {}, env.tokens.alice));
    expect(mine.myOrders.edges).toHaveLength(1);
  });

  it('refuses introspection, which no manifest holds', async () => {
    expect(refused(await env.api.gql('{ __schema { queryType { name } } }', {}, env.tokens.admin)).code).toBe('BAD_REQUEST');
  });

  it("runs a manifest document sent as text, whatever its layout, field order and __typename (as urql sends it)", async () => {
    const exact = ok(await env.api.gql<{ restaurants: unknown[] }>(entry('Restaurants').text, {}, env.tokens.alice));
    expect(exact.restaurants.length).toBeGreaterThan(0);
    const reformatted = ok(await env.api.gql<{ restaurants: Array<{ __typename: string }> }>(RESTAURANTS_AS_URQL_SENDS_IT, {}, env.tokens.alice));
    expect(reformatted.restaurants[0]!.__typename).toBe('Restaurant');
  });

  it('refuses a manifest document with one field more', async () => {
    const more = entry('Restaurants').text.replace('cuisine', 'cuisine address');
    expect(refused(await env.api.gql(more, {}, env.tokens.alice)).code).toBe('BAD_REQUEST');
  });

  it('runs a document named by its id (documentId, or the persisted-query hash), and refuses an unknown id', async () => {
    const { id } = entry('Restaurants');
    const byId = ok(await post(env.api, { documentId: id }, env.tokens.alice)) as { restaurants: unknown[] };
    expect(byId.restaurants.length).toBeGreaterThan(0);
    const byHash = ok(await post(env.api, { extensions: { persistedQuery: { version: 1, sha256Hash: id.replace(/^sha256:/, '') } } }, env.tokens.alice)) as {
      restaurants: unknown[];
    };
    expect(byHash.restaurants).toEqual(byId.restaurants);
    const unknown = await post(env.api, { documentId: 'sha256:0000' }, env.tokens.alice);
    expect(unknown.status).toBe(400);
    expect(refused(unknown)).toEqual({ code: 'BAD_REQUEST', message: UNKNOWN_DOCUMENT_ID });
  });

  it('runs the handler functions’ write-backs (their documents are in the manifest)', async () => {
    // validate-order's write-back, as the kit sends it: the generated document's text.
    const { text } = entry('RecordOrderValidation');
    const res = await env.api.gql<{ recordOrderValidation: { status: string } }>(text, { orderId, valid: true, reason: null }, env.tokens.service);
    expect(ok(res).recordOrderValidation.status).toBe('validated');
  });

  it('refuses an ad-hoc subscription over graphql-ws, and runs a trusted one on the same socket', async () => {
    const ws = wsSession(env.api.url, env.tokens.alice);
    try {
      const adhoc = ws.subscribe(ADHOC_SUBSCRIPTION, { id: orderId });
      await adhoc.untilCompleted();
      const errors = adhoc.failure as Array<{ message: string; extensions?: { code?: string } }>;
      expect(errors.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_REQUEST', NOT_TRUSTED]]);
      expect(adhoc.results).toEqual([]);

      const trusted = ws.subscribe<{ order: { id: string; status: string } }>(entry('OrderLive').text, { id: orderId });
      await trusted.untilCount(1);
      expect(trusted.data[0]!.order).toMatchObject({ id: orderId, status: 'validated' });
      trusted.unsubscribe();
    } finally {
      await ws.dispose();
    }
  });

  it('refuses an ad-hoc subscription over SSE, and streams a trusted one (by text and by id)', async () => {
    const adhoc = await sseSubscribe(env.api.url, env.tokens.alice, ADHOC_SUBSCRIPTION, { id: orderId });
    try {
      await adhoc.untilCompleted();
      const errors = adhoc.body?.errors ?? adhoc.results.flatMap((r) => r.errors ?? []);
      expect(errors.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_REQUEST', NOT_TRUSTED]]);
      expect(adhoc.data).toEqual([]);
    } finally {
      adhoc.close();
    }

    const trusted = await sseSubscribe<{ order: { id: string } }>(env.api.url, env.tokens.alice, entry('OrderLive').text, { id: orderId });
    try {
      expect(trusted.status).toBe(200);
      await trusted.untilCount(1);
      expect(trusted.data[0]!.order.id).toBe(orderId);
    } finally {
      trusted.close();
    }

    const res = await fetch(`${env.api.url}/graphql`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${env.tokens.alice}` },
      body: JSON.stringify({ documentId: entry('OrderLive').id, variables: { id: orderId } }),
    });
    try {
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('"order"')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain(orderId);
      await reader.cancel();
    } catch (err) {
      await res.body?.cancel();
      throw err;
    }
  });
});

describe('without TRUSTED_DOCUMENTS (the default)', () => {
  it('runs ad-hoc operations on every transport', async () => {
    ok(await open.gql(ADHOC_QUERY, {}, env.tokens.alice));
    const ws = wsSession(open.url, env.tokens.alice);
    try {
      const feed = ws.subscribe<{ order: { id: string } }>(ADHOC_SUBSCRIPTION, { id: orderId });
      await feed.untilCount(1);
      expect(feed.data[0]!.order.id).toBe(orderId);
      feed.unsubscribe();
    } finally {
      await ws.dispose();
    }
    const sse = await sseSubscribe<{ order: { id: string } }>(open.url, env.tokens.alice, ADHOC_SUBSCRIPTION, { id: orderId });
    try {
      await sse.untilCount(1);
      expect(sse.data[0]!.order.id).toBe(orderId);
    } finally {
      sse.close();
    }
  });
});

describe('the manifest', () => {
  it('holds what `npm run codegen` collected: every document of the web demo and the handler functions', () => {
    const names = Object.values(manifest).map((text) => /(?:query|mutation|subscription) (\w+)/.exec(text)?.[1]);
    expect(names).toEqual(expect.arrayContaining(['PlaceOrder', 'OrderLive', 'EventsLive', 'RecentEvents', 'RecordOrderValidation', 'RecordPaymentResult', 'AssignDriver', 'AvailableDrivers', 'ChargePaymentRead']));
  });

  it('compares operations, not text: layout, order and __typename aside, and nothing else', () => {
    const a = parse('query Q($b: Int, $a: Int) { x(b: $b, a: $a) { __typename y z } }');
    const b = parse('# a comment\nquery Q($a: Int, $b: Int) { x(a: $a, b: $b) { z, y } }');
    expect(canonicalDocument(a)).toBe(canonicalDocument(b));
    expect(canonicalDocument(parse('query Q { x { y } }'))).not.toBe(canonicalDocument(parse('query R { x { y } }')));
    expect(canonicalDocument(parse('{ x { y } }'))).not.toBe(canonicalDocument(parse('{ x { y w } }')));
  });

  it('refuses a bad manifest with one line naming the file and what is wrong', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trusted-'));
    try {
      const write = (name: string, body: string) => (writeFileSync(path.join(dir, name), body), name);
      expect(() => loadTrustedDocuments(write('list.json', '[]'), dir)).toThrow('TRUSTED_DOCUMENTS: list.json: must be a JSON object');
      expect(() => loadTrustedDocuments(write('bad.json', '{"a": "query {"}'), dir)).toThrow(/^TRUSTED_DOCUMENTS: bad\.json: document a does not parse/);
      expect(() => loadTrustedDocuments('missing.json', dir)).toThrow(/^TRUSTED_DOCUMENTS: missing\.json: ENOENT/);
      // Several manifests: a team's own next to ours.
      const ours = path.resolve(MANIFEST);
      const theirs = write('theirs.json', JSON.stringify({ 'team:1': 'query Mine { restaurants { id } }' }));
      const both = loadTrustedDocuments(`${ours}, ${theirs}`, dir);
      expect(both.size).toBe(Object.keys(manifest).length + 1);
      expect(both.allows(parse('query Mine { restaurants { id } }'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
