/**
 * The `handlers` command as an operator runs it: config errors as one line,
 * a selection of functions by HANDLERS, and a SIGTERM drain that lets an
 * in-flight call finish its write-back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_SECRET, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { eventsOf, ids, ok, Q, seeded, tokensFor, type OrderView } from '../support/orders.js';
import { runCommand } from '../support/processes.js';
import { deliver, deliveryOf, newWebhookSecret } from '../support/webhooks.js';

let db: TestDatabase;
let api: TestApi;
beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  api = await startTestApi(db);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const base = { NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', HANDLERS_PORT: '0', AUTH_JWT_SECRET: TEST_SECRET };

describe('config errors', () => {
  it('production without SERVICE_TOKEN stops with one line saying how to mint one', async () => {
    const proc = runCommand(['handlers'], { ...base, NODE_ENV: 'production', WEBHOOK_SECRET: newWebhookSecret() });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim().split('\n')).toEqual(['threefactor: config: SERVICE_TOKEN is required; mint one with: npm run token -- service --ttl 90d']);
  });

  it('a WEBHOOK_SECRET not in whsec_ form is named, and its value is not echoed', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: 'plain-secret-value' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr()).toMatch(/^threefactor: config: WEBHOOK_SECRET must be whsec_<base64>/);
    expect(proc.stderr()).not.toContain('plain-secret-value');
  });

  it('an unknown function in HANDLERS is named with the known ones', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: newWebhookSecret(), HANDLERS: 'validate-order,bake-pizza' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim()).toBe(
      'threefactor: config: HANDLERS names unknown function "bake-pizza"; known: validate-order, charge-payment, decline-unanswered, assign-driver, refund-payment',
    );
  });
});

describe('the handlers process', () => {
  it('serves only the functions named in HANDLERS, and exits 0 on SIGTERM', async () => {
    const proc = runCommand(['handlers'], { ...base, WEBHOOK_SECRET: newWebhookSecret(), HANDLERS: 'charge-payment, assign-driver' });
    try {
      const listening = await proc.waitForLog((l) => l.msg === 'handlers listening');
      expect(listening.handlers).toEqual(['charge-payment', 'assign-driver']);
      const health = await fetch(`${String(listening.url)}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', handlers: ['charge-payment', 'assign-driver'] });
      expect((await fetch(`${String(listening.url)}/validate-order`, { method: 'POST' })).status).toBe(404);
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM finishes the in-flight call (its write-back included), refuses new connections, then exits 0', async () => {
    const secret = newWebhookSecret();
    const tokens = await tokensFor(api);
    const order = ok(
      await api.gql<{ placeOrder: OrderView }>(
        Q.place,
        { input: { restaurantId: ids.napoli, deliveryAddress: '9 Quay St', items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
        tokens.alice,
      ),
    ).placeOrder;
    const event = deliveryOf((await eventsOf(db, order.id))[0]!, 'validate-order');
    const proc = runCommand(['handlers'], {
      ...base,
      WEBHOOK_SECRET: secret,
      API_URL: `${api.url}/graphql`,
      SERVICE_TOKEN: await api.token('service', 'handlers'),
    });
    // Hold the order row so the function's write-back waits inside the API.
    const lock = await db.sql.reserve();
    try {
      const { url } = await proc.waitForLog((l) => l.msg === 'handlers listening');
      await lock`begin`;
      await lock`select 1 from orders where id = ${order.id} for update`;
      const inFlight = deliver(`${String(url)}/validate-order`, event, { secret });
      await waitFor(async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        return row!.n > 0;
      });

      proc.child.kill('SIGTERM');
      await proc.waitForLog((l) => l.msg === 'draining');
      await expect(fetch(`${String(url)}/healthz`)).rejects.toThrow();
      expect(proc.child.exitCode).toBeNull();

      await lock`commit`;
      expect(await inFlight).toMatchObject({ status: 200, body: { ok: true, outcome: 'validated' } });
      expect((await proc.exited).code).toBe(0);
      expect((await eventsOf(db, order.id)).map((e) => e.type)).toEqual(['order.placed', 'order.validated']);
    } finally {
      lock.release();
      proc.child.kill('SIGKILL');
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
