/**
 * A shared subscription's result is serialized once for all its sockets, and
 * each socket still gets a well-formed graphql-ws frame with its own
 * subscription id, whatever characters the client chose for that id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadSerializations } from '../../src/engine/server/sharedPayloads.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { placeNapoliOrder, seeded, tokensFor, type Tokens } from '../support/orders.js';
import { rawWsClient, type RawWsClient } from '../support/subscriptions.js';
import { waitFor } from '../support/wait.js';

const FEED = 'subscription { restaurantOrders { id status version } }';

let db: TestDatabase;
let api: TestApi;
let tokens: Tokens;
const clients: RawWsClient[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
  tokens = await tokensFor(api);
});
afterAll(async () => {
  for (const c of clients) c.socket.terminate();
  await api?.close();
  await db?.drop();
});

describe('one serialization per shared result', () => {
  it('twenty sockets with their own ids (quotes, backslashes, the marker text itself) each get their own id around the same payload, made twice (solo and group)', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'plain' : i === 1 ? '"}quote\\\\' : i === 2 ? '\u0000threefactor-payload"}' : `id-${i}-é-${'x'.repeat(i)}`));
    const frames = new Map<string, string[]>();
    for (const id of ids) {
      const client = await rawWsClient(api.url, tokens.napoli);
      clients.push(client);
      const texts: string[] = [];
      frames.set(id, texts);
      client.socket.on('message', (m) => texts.push(String(m)));
      client.subscribe(id, FEED);
    }
    await waitFor(() => api.api.ws.sharing().subscribers === 19, 'nineteen attached to the group');

    const before = payloadSerializations();
    const order = await placeNapoliOrder(api, tokens.alice);
    const nexts = (id: string) => frames.get(id)!.map((t) => JSON.parse(t) as { id: string; type: string; payload: unknown }).filter((m) => m.type === 'next');
    await waitFor(() => ids.every((id) => nexts(id).length >= 1), 'every socket got the change');

    const expected = { data: { restaurantOrders: { id: order.id, status: 'placed', version: 1 } } };
    for (const id of ids) expect(nexts(id)).toEqual([{ id, type: 'next', payload: expected }]);
    // The solo's execution and the group's: two result objects, whatever the number of sockets.
    expect(payloadSerializations() - before).toBe(2);
  });
});
