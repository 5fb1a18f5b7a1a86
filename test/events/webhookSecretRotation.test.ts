/**
 * Rotating WEBHOOK_SECRET with no failed delivery. WEBHOOK_SECRET holds one
 * or more `whsec_` secrets, space-separated: the dispatcher signs with each
 * (several `v1,<sig>` in one webhook-signature header, as Standard Webhooks
 * allows) and the handlers accept a signature valid under any of theirs.
 *
 * Under a steady stream of deliveries, real dispatchers and handler servers
 * are rolled as a deployment does it (start the new one, move the traffic,
 * drain the old one) through the order README documents:
 *   (a) both old → (b) dispatcher old+new → (c) handlers old+new →
 *   (d) handlers new → (e) dispatcher new
 * and every attempt of every delivery is a 200. The wrong order (handlers
 * dropping old while a dispatcher signs with old only) is shown to fail, so
 * the check can.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { parseConfig } from '../../src/engine/config.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { createLogger } from '../../src/engine/log.js';
import { createFetchHandler, defineHandler } from '../../src/kit/index.js';
import { serveHandlers, type HandlerServer } from '../../src/kit/node.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { answerOf, domainEvent, newWebhookSecret, signedRequest } from '../support/webhooks.js';

const OLD = newWebhookSecret();
const NEW = newWebhookSecret();
const URL_VARIABLE = 'ROTATION_HANDLERS_URL';

/** Deliveries each handler server ran, by its label. */
const served = new Map<string, number>();

const tick = (label: string) =>
  defineHandler({
    name: 'tick',
    on: ['rotation.tick'],
    data: z.object({ n: z.number() }),
    async handle() {
      served.set(label, (served.get(label) ?? 0) + 1);
      return 'ok';
    },
  });

const trigger: TriggerDefinition = {
  name: 'rotation',
  match: { kind: 'event', types: ['rotation.tick'] },
  target: { kind: 'webhookFromEnv', env: URL_VARIABLE },
  retry: { numRetries: 20, intervalSec: 1, maxIntervalSec: 1, timeoutSec: 10 },
};

let db: TestDatabase;
/** The dispatchers' environment, read at each attempt: where the traffic goes. */
let env: Record<string, string | undefined>;
let dispatchers: Dispatcher[];
let handlerServers: HandlerServer[];
let stopLoad: (() => Promise<void>) | undefined;

beforeEach(async () => {
  db = await freshDatabase();
  env = {};
  dispatchers = [];
  handlerServers = [];
  served.clear();
});
afterEach(async () => {
  await stopLoad?.();
  stopLoad = undefined;
  await Promise.all(dispatchers.map((d) => d.stop({ deadlineMs: 2_000 })));
  await Promise.all(handlerServers.map((h) => h.drain(1_000)));
  await db?.drop();
});

function dispatcher(secrets: string): Promise<Dispatcher> {
  return startDispatcher({ database: db, log: testLog(), triggers: [trigger], webhookSecret: secrets, env, pollMs: 100, leaseMs: 5_000 }).then((d) => {
    dispatchers.push(d);
    return d;
  });
}

async function handlers(label: string, secrets: string): Promise<HandlerServer> {
  const server = await serveHandlers([tick(label)], { port: 0, webhookSecret: secrets, apiUrl: 'http://127.0.0.1:9/graphql', serviceToken: 'unused', log: createLogger('silent') });
  handlerServers.push(server);
  return server;
}

/** A rolling deploy of the dispatcher: the new one claims alongside the old, which then drains. */
async function rollDispatcher(old: Dispatcher, secrets: string): Promise<Dispatcher> {
  const next = await dispatcher(secrets);
  await old.stop({ deadlineMs: 5_000 });
  dispatchers.splice(dispatchers.indexOf(old), 1);
  return next;
}

/** Blue/green for the handlers: start the new server, move the traffic to it, let the old one finish, then drain it. */
async function rollHandlers(old: HandlerServer, label: string, secrets: string): Promise<HandlerServer> {
  const next = await handlers(label, secrets);
  env[URL_VARIABLE] = `${next.url}/tick`;
  // Attempts that read the old URL just before the switch reach the old server, which still serves them.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await old.drain(5_000);
  handlerServers.splice(handlerServers.indexOf(old), 1);
  return next;
}

/** Events at a steady pace (one transaction every few ms) until stopped. */
function steadyLoad(): () => Promise<void> {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      await emitEvents(db, [{ type: 'rotation.tick', aggregateType: 'tick', aggregateId: randomUUID(), payload: { n: n++ } }]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** Lets the load run until `label`'s server has served some more deliveries. */
async function runFor(label: string, atLeast = 30): Promise<void> {
  const from = served.get(label) ?? 0;
  await waitFor(() => (served.get(label) ?? 0) >= from + atLeast, `${atLeast} deliveries served by ${label}`, 20_000);
}

async function settle(): Promise<void> {
  await stopLoad?.();
  stopLoad = undefined;
  await waitFor(async () => {
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status in ('pending', 'running')`;
    return row!.n === 0;
  }, 'every delivery to finish', 30_000);
}

async function attempts(): Promise<{ total: number; failed: Array<{ status: number | null; error: string | null; body: string | null }> }> {
  const rows = await db.sql<{ status: number | null; outcome: string; error: string | null; body: string | null }[]>`
    select http_status as status, outcome, error, response_body as body from threefactor.delivery_attempts`;
  return { total: rows.length, failed: rows.filter((r) => r.status !== 200 || r.outcome !== 'delivered').map(({ status, error, body }) => ({ status, error, body })) };
}

describe('several webhook secrets', () => {
  it('the dispatcher signs with each, space-separated, and standardwebhooks verifies each signature under its own secret', () => {
    const at = new Date();
    const header = webhookSigner(`${OLD} ${NEW}`).sign('msg_1', at, '{"a":1}');
    const signatures = header.split(' ');
    expect(signatures).toHaveLength(2);
    const headers = (signature: string) => ({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature });
    expect(signatures[0]).toBe(new Webhook(OLD).sign('msg_1', at, '{"a":1}'));
    expect(signatures[1]).toBe(new Webhook(NEW).sign('msg_1', at, '{"a":1}'));
    for (const secret of [OLD, NEW]) expect(() => new Webhook(secret).verify('{"a":1}', headers(header))).not.toThrow();
  });

  it('the kit accepts a delivery signed under any of its secrets, and refuses one signed under none', async () => {
    const handle = createFetchHandler([tick('kit')], { webhookSecret: `${OLD} ${NEW}`, apiUrl: 'http://127.0.0.1:9/graphql', serviceToken: 'unused', log: createLogger('silent') });
    const event = domainEvent('rotation.tick', { n: 1 });
    for (const secret of [OLD, NEW]) {
      expect((await answerOf(await handle(signedRequest('https://functions.example/tick', event, { secret })))).status).toBe(200);
    }
    const other = await answerOf(await handle(signedRequest('https://functions.example/tick', event, { secret: newWebhookSecret() })));
    expect(other).toMatchObject({ status: 401, body: { error: 'webhook signature rejected: No matching signature found' } });
  });
});

describe('the WEBHOOK_SECRET setting', () => {
  it('takes several secrets, space-separated, and refuses a malformed list without echoing it', () => {
    expect(parseConfig({ WEBHOOK_SECRET: `${OLD} ${NEW}` }).WEBHOOK_SECRET).toBe(`${OLD} ${NEW}`);
    expect(() => parseConfig({ WEBHOOK_SECRET: `${OLD},${NEW}` })).toThrow(/^config: WEBHOOK_SECRET must be whsec_<base64> \(or several, space-separated, while rotating\)/);
    expect(() => parseConfig({ WEBHOOK_SECRET: `${OLD} not-a-secret` })).toThrow(/^config: WEBHOOK_SECRET must be whsec_<base64>(?!.*not-a-secret)/);
  });
});

describe('rotating WEBHOOK_SECRET under load', () => {
  it('in the documented order, no attempt fails across the five steps', async () => {
    // (a) both old
    let h = await handlers('a: handlers old', OLD);
    env[URL_VARIABLE] = `${h.url}/tick`;
    let d = await dispatcher(OLD);
    stopLoad = steadyLoad();
    await runFor('a: handlers old');
    // (b) the dispatcher signs with old and new; the handlers still know old only
    d = await rollDispatcher(d, `${OLD} ${NEW}`);
    await runFor('a: handlers old');
    // (c) the handlers accept both
    h = await rollHandlers(h, 'c: handlers old+new', `${OLD} ${NEW}`);
    await runFor('c: handlers old+new');
    // (d) the handlers drop old: the dispatcher's new signature still matches
    h = await rollHandlers(h, 'd: handlers new', NEW);
    await runFor('d: handlers new');
    // (e) the dispatcher drops old
    d = await rollDispatcher(d, NEW);
    await runFor('d: handlers new');
    await settle();

    const { total, failed } = await attempts();
    const [delivered] = await db.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status = 'delivered'`;
    expect(failed, `${failed.length} of ${total} attempts failed`).toEqual([]);
    expect(total).toBe(delivered!.n);
    expect(total).toBeGreaterThanOrEqual(150);
  }, 120_000);

  it('in the wrong order (handlers drop old while the dispatcher signs with old only) attempts fail with 401', async () => {
    let h = await handlers('old', OLD);
    env[URL_VARIABLE] = `${h.url}/tick`;
    await dispatcher(OLD);
    stopLoad = steadyLoad();
    await runFor('old');
    h = await rollHandlers(h, 'new', NEW);
    await waitFor(async () => (await attempts()).failed.length > 0, 'a failed attempt', 20_000);
    const { failed } = await attempts();
    expect(failed[0]).toMatchObject({ status: 401 });
    expect(served.get('new') ?? 0).toBe(0);
  }, 60_000);
});
