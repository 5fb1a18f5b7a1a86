/**
 * Input PostgreSQL or JavaScript cannot hold is the caller's mistake, answered
 * as BAD_USER_INPUT naming the argument, never as a masked internal error:
 * NUL characters in any string (variables and literals, JSON included), a
 * Relay cursor or DateTime in year 0000, an event cursor beyond 64 bits, and
 * a filter list longer than PostgreSQL's bind-parameter limit. Over real HTTP
 * (and graphql-ws for the events subscription) against the real API; a
 * refused operation writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTriggers } from '../../src/engine/events/triggers/sync.js';
import { recordedTrigger } from '../support/admin.js';
import type { GqlResult } from '../support/api.js';
import { ids, orderAt, Q, refused, writeState } from '../support/orders.js';
import { wsSession } from '../support/subscriptions.js';
import { useTestApi } from '../support/useTestApi.js';

const env = useTestApi({ seed: true });

beforeAll(async () => {
  await syncTriggers(env.db.sql, [
    recordedTrigger('bad-input', ['order.*']),
    { name: 'bad-input-manual', match: { kind: 'table', schema: 'public', table: 'drivers', enableManual: true }, target: { kind: 'inProcess', handler: 'record' } },
  ]);
});

/** The one error is BAD_USER_INPUT naming `field` (null: a scalar's error, which knows no path), and nothing was written. */
async function expectBadInput(send: () => Promise<GqlResult>, field: RegExp | null): Promise<string> {
  const before = await writeState(env.db);
  const res = await send();
  const { code, message } = refused(res);
  expect({ code, message }).toMatchObject({ code: 'BAD_USER_INPUT' });
  if (field) expect(res.errors![0]!.extensions?.field).toMatch(field);
  expect(await writeState(env.db)).toEqual(before);
  return message;
}

const NUL = 'a\u0000b';

describe('NUL characters in string input', () => {
  it('refuses one in a variable, named by the argument path it fills', async () => {
    const message = await expectBadInput(
      () =>
        env.api.gql(
          Q.place,
          { input: { restaurantId: ids.napoli, deliveryAddress: `1 Main${NUL}St`, items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
          env.tokens.alice,
        ),
      /^input\.deliveryAddress$/,
    );
    expect(message).toMatch(/input\.deliveryAddress.*NUL/);
  });

  it('refuses one in a literal of the document', async () => {
    const order = await orderAt(env.api, env.tokens, 'paid');
    await expectBadInput(
      () => env.api.gql(`mutation { declineOrder(orderId: "${order.id}", reason: "closed\\u0000early") { id } }`, {}, env.tokens.napoli),
      /^reason$/,
    );
  });

  it('refuses one in a service write-back (reason, providerRef)', async () => {
    const placed = await orderAt(env.api, env.tokens, 'placed');
    await expectBadInput(() => env.api.gql(Q.validate, { orderId: placed.id, valid: false, reason: NUL }, env.tokens.service), /^reason$/);

    const validated = await orderAt(env.api, env.tokens, 'validated');
    const pay = await env.api.gql<{ payOrder: { id: string } }>(Q.pay, { orderId: validated.id }, env.tokens.alice);
    const paymentId = pay.data!.payOrder.id;
    await expectBadInput(() => env.api.gql(Q.payResult, { paymentId, succeeded: true, providerRef: NUL }, env.tokens.service), /^providerRef$/);
  });

  it('refuses one in an admin filter, in a list, and in a JSON object (keys too)', async () => {
    await expectBadInput(() => env.api.gql('query($id: String) { events(filter: { aggregateId: $id }) { edges { cursor } } }', { id: NUL }, env.tokens.admin), /^filter\.aggregateId$/);
    await expectBadInput(() => env.api.gql('{ events(filter: { types: ["order.placed", "x\\u0000"] }) { edges { cursor } } }', {}, env.tokens.admin), /^filter\.types\.1$/);
    await expectBadInput(
      () => env.api.gql('mutation($row: JSONObject!) { invokeTrigger(trigger: "bad-input-manual", row: $row) { id } }', { row: { id: '1', note: { text: NUL } } }, env.tokens.admin),
      /^row\.note\.text$/,
    );
    await expectBadInput(
      () => env.api.gql('mutation($row: JSONObject!) { invokeTrigger(trigger: "bad-input-manual", row: $row) { id } }', { row: { [NUL]: 1 } }, env.tokens.admin),
      /^row/,
    );
  });

  it('refuses one in a subscription over WebSocket, as an error of that operation', async () => {
    const ws = wsSession(env.api.url, env.tokens.admin);
    try {
      const feed = ws.subscribe('subscription($id: String) { events(filter: { aggregateId: $id }) { cursor } }', { id: NUL });
      await feed.until((f) => f.results.length > 0 || f.completed, 10_000, 'an answer');
      const errors = feed.results[0]?.errors ?? (feed.failure as Array<{ extensions?: { code?: string; field?: string } }> | undefined);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.aggregateId' });
      const next = ws.subscribe('{ eventTriggers { name } }');
      await next.untilCompleted();
      expect(next.results[0]?.errors).toBeUndefined();
    } finally {
      await ws.dispose();
    }
  });
});

/** A Relay cursor of the (created_at, id) keyset, as the server writes them. */
const timeCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

describe('timestamps PostgreSQL cannot hold', () => {
  const year0 = timeCursor('0000-01-01T00:00:00.000000Z', '00000000-0000-4000-8000-000000000001');

  it('refuses a Relay cursor in year 0000 (orders and deliveries)', async () => {
    await expectBadInput(() => env.api.gql('query($after: String) { myOrders(after: $after) { edges { cursor } } }', { after: year0 }, env.tokens.alice), /^after$/);
    await expectBadInput(() => env.api.gql('query($before: String) { deliveries(before: $before) { edges { cursor } } }', { before: year0 }, env.tokens.admin), /^before$/);
  });

  it('refuses a DateTime in year 0000 in a filter, an offset that lands there too', async () => {
    const variable = await expectBadInput(
      () => env.api.gql('query($from: DateTime) { events(filter: { from: $from }) { edges { cursor } } }', { from: '0000-01-01T00:00:00Z' }, env.tokens.admin),
      null,
    );
    expect(variable).toMatch(/\$from.*year/);
    const literal = await expectBadInput(() => env.api.gql('{ deliveries(filter: { to: "0001-01-01T00:30:00+01:00" }) { edges { cursor } } }', {}, env.tokens.admin), null);
    expect(literal).toMatch(/year/);
  });
});

describe('event cursors beyond 64 bits', () => {
  it('refuses them in the admin event connection and in replay', async () => {
    for (const after of ['99999999999999999999:1', '1:9999999999999999999', '18446744073709551616:0']) {
      await expectBadInput(() => env.api.gql('query($after: String) { events(after: $after) { edges { cursor } } }', { after }, env.tokens.admin), /^after$/);
    }
    await expectBadInput(
      () => env.api.gql('mutation { replayEvents(trigger: "bad-input", filter: { afterCursor: "99999999999999999999:1" }) { count } }', {}, env.tokens.admin),
      /^filter\.afterCursor$/,
    );
    // The largest positions there are still work.
    const max = await env.api.gql('{ events(after: "18446744073709551615:9223372036854775807") { edges { cursor } } }', {}, env.tokens.admin);
    expect(max.errors).toBeUndefined();
  });

  it('ends an events subscription from one at once with BAD_USER_INPUT', async () => {
    const ws = wsSession(env.api.url, env.tokens.admin);
    try {
      const feed = ws.subscribe('subscription { events(after: "99999999999999999999:1") { cursor } }');
      await feed.until((f) => f.results.length > 0 || f.completed, 10_000, 'an answer');
      const errors = feed.results[0]?.errors ?? (feed.failure as Array<{ extensions?: { code?: string; field?: string } }> | undefined);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    } finally {
      await ws.dispose();
    }
  });
});

describe('filter lists beyond the bind-parameter limit', () => {
  const types = Array.from({ length: 70_000 }, (_, i) => `t.${i}`);

  it('refuses 70,000 types in the admin event filter, the replay filter and the events subscription', async () => {
    const message = await expectBadInput(
      () => env.api.gql('query($types: [String!]) { events(filter: { types: $types }) { edges { cursor } } }', { types }, env.tokens.admin),
      /^filter\.types$/,
    );
    expect(message).toMatch(/at most/);
    await expectBadInput(
      () => env.api.gql('mutation($types: [String!]) { replayEvents(trigger: "bad-input", filter: { types: $types }) { count } }', { types }, env.tokens.admin),
      /^filter\.types$/,
    );
    const ws = wsSession(env.api.url, env.tokens.admin);
    try {
      const feed = ws.subscribe('subscription($types: [String!]) { events(filter: { types: $types }) { cursor } }', { types: types.slice(0, 5_000) });
      await feed.until((f) => f.results.length > 0 || f.completed, 10_000, 'an answer');
      const errors = feed.results[0]?.errors ?? (feed.failure as Array<{ extensions?: { code?: string } }> | undefined);
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await ws.dispose();
    }
  });

  it('still takes a list at the cap', async () => {
    const res = await env.api.gql('query($types: [String!]) { events(filter: { types: $types }) { edges { cursor } } }', { types: types.slice(0, 1_000) }, env.tokens.admin);
    expect(res.errors).toBeUndefined();
  });
});
