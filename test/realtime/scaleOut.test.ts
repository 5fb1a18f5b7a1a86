/**
 * Scale-out: two API processes on one database. A mutation through process
 * A reaches subscribers connected to process B (a real child process),
 * because both hubs tail the same event log. B also drains its WebSocket
 * subscribers on SIGTERM with 1001, so they can reconnect elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_SECRET, type TestApi } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ok, placeNapoliOrder, Q, seeded, tokensFor, type OrderView, type Tokens } from '../support/orders.js';
import { runCommand, type CommandProcess } from '../support/processes.js';
import { sseSubscribe, wsSession, type WsSession } from '../support/subscriptions.js';

let db: TestDatabase;
let a: TestApi;
let b: CommandProcess;
let bUrl: string;
let tokens: Tokens;
const sessions: WsSession[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  a = await startTestApi(db);
  tokens = await tokensFor(a);
  b = runCommand(['start'], {
    DATABASE_URL: urlFor(db.name),
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    NODE_ENV: 'test',
  });
  const listening = await b.waitForLog((l) => l.msg === 'api listening');
  bUrl = String(listening.url).replace(/\/graphql$/, '');
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  if (b && b.child.exitCode === null) {
    b.child.kill('SIGKILL');
    await b.exited;
  }
  await a?.close();
  await db?.drop();
});

describe('two API processes on one database', () => {
  it('a mutation through A reaches subscribers on B, over WebSocket and SSE', async () => {
    const order = await placeNapoliOrder(a, tokens.alice);
    const ws = wsSession(bUrl, tokens.alice);
    sessions.push(ws);
    const onB = ws.subscribe<{ order: { version: number; status: string } }>(
      'subscription($id: ID!) { order(id: $id) { status version } }',
      { id: order.id },
    );
    const feedOnB = await sseSubscribe<{ restaurantOrders: { id: string; status: string } }>(
      bUrl,
      tokens.napoli,
      'subscription { restaurantOrders { id status } }',
    );
    await onB.untilCount(1);

    const validated = ok(await a.gql<{ recordOrderValidation: OrderView }>(Q.validate, { orderId: order.id, valid: true }, tokens.service))
      .recordOrderValidation;
    await onB.until((f) => f.data.some((d) => d.order.version === validated.version));
    await feedOnB.until((f) => f.data.some((d) => d.restaurantOrders.id === order.id && d.restaurantOrders.status === 'validated'));
    expect(onB.data.map((d) => d.order.status)).toEqual(['placed', 'validated']);
    feedOnB.close();
  });

  it('B closes its WebSockets with 1001 when it drains on SIGTERM', async () => {
    const order = await placeNapoliOrder(a, tokens.bob);
    const ws = wsSession(bUrl, tokens.bob);
    sessions.push(ws);
    const onB = ws.subscribe('subscription($id: ID!) { order(id: $id) { version } }', { id: order.id });
    await onB.untilCount(1);
    b.child.kill('SIGTERM');
    expect((await ws.closed).code).toBe(1001);
    expect((await b.exited).code).toBe(0);
  });
});
