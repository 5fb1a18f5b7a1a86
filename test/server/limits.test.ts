/**
 * Request limits on the real HTTP server: query depth (MAX_QUERY_DEPTH),
 * body size (MAX_BODY_BYTES), batch size (MAX_BATCH_SIZE) and aliases are
 * refused before anything executes; ordinary requests at the limits pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let api: TestApi;
let token: string;

beforeAll(async () => {
  db = await freshDatabase();
  api = await startTestApi(db);
  token = await api.token('customer', '00000000-0000-4000-8000-000100000001');
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** A query whose selection is `depth` fields deep: order → payments → order → … → id. */
function queryOfDepth(depth: number): string {
  let inner = 'id';
  for (let level = depth - 1; level >= 2; level--) inner = `${level % 2 === 0 ? 'payments' : 'order'} { ${inner} }`;
  return `{ order(id: "00000000-0000-4000-8000-00ff00000000") { ${inner} } }`;
}

async function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

describe('query depth', () => {
  it(`accepts a query exactly MAX_QUERY_DEPTH deep and refuses one level more`, async () => {
    const max = api.config.MAX_QUERY_DEPTH;
    const atLimit = await api.gql(queryOfDepth(max), {}, token);
    expect(atLimit.errors).toBeUndefined();
    expect(atLimit.data).toEqual({ order: null });

    const tooDeep = await api.gql(queryOfDepth(max + 1), {}, token);
    expect(tooDeep.data ?? null).toBeNull();
    expect(tooDeep.errors?.[0]?.message).toMatch(new RegExp(`depth limit of ${max}`, 'i'));
  });
});

describe('body size', () => {
  it('refuses a body over MAX_BODY_BYTES with 413 without reading it into the schema', async () => {
    const max = api.config.MAX_BODY_BYTES;
    const padding = 'x'.repeat(max);
    const res = await post(JSON.stringify({ query: `{ restaurants { id } }`, variables: { padding } }));
    expect(res.status).toBe(413);
    expect(await res.text()).toBe(`Request body exceeds ${max} bytes`);
  });

  it('refuses a body without a declared length (411)', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"query":"{ restaurants { id } }"}'));
        controller.close();
      },
    });
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(411);
  });
});

describe('batching', () => {
  const op = { query: '{ restaurants { id } }' };

  it('runs a batch of MAX_BATCH_SIZE operations', async () => {
    const res = await post(JSON.stringify(Array.from({ length: api.config.MAX_BATCH_SIZE }, () => op)));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Array<{ data?: unknown; errors?: unknown }>;
    expect(body).toHaveLength(api.config.MAX_BATCH_SIZE);
    expect(body.every((r) => r.errors === undefined)).toBe(true);
  });

  it('refuses a batch larger than MAX_BATCH_SIZE', async () => {
    const max = api.config.MAX_BATCH_SIZE;
    const res = await post(JSON.stringify(Array.from({ length: max + 1 }, () => op)));
    expect(res.status).toBeGreaterThanOrEqual(400);
    const body = (await res.json()) as { errors?: Array<{ message: string }> };
    expect(body.errors?.[0]?.message).toMatch(new RegExp(`Batching is limited to ${max} operations`));
  });
});

describe('aliases', () => {
  it('refuses more than 15 aliases, accepts 15', async () => {
    const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: restaurants { id }`).join(' ')} }`;
    expect((await api.gql(aliased(15), {}, token)).errors).toBeUndefined();
    const res = await api.gql(aliased(16), {}, token);
    expect(res.errors?.[0]?.message).toMatch(/aliases limit of 15/i);
  });
});

describe('ordinary requests', () => {
  it('a typical client query passes every limit', async () => {
    const res = await api.gql(`{ restaurants { id name menu { id name priceCents available } } myOrders(first: 10) { edges { node { id status items { name quantity } } } pageInfo { hasNextPage endCursor } } }`, {}, token);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
  });
});
