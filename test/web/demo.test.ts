/**
 * The web demo in a real browser: Debian's headless Chromium, driven by
 * playwright-core, against the real API on a fresh database. The human steps
 * (order, pay, approve, decline, pick up, deliver) are clicks in the demo's
 * panes; the handler steps are the handlers' own write-back mutations with
 * a service token. What is asserted is what a viewer sees: the customer's
 * timeline moving through every status without a reload, fed by a
 * subscription (no query is sent after the page loaded), and the event log
 * listing each event with the actor whose write caused it.
 *
 * Set DEMO_SCREENSHOT=/tmp/x.png to keep a picture of the finished flow.
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../src/cli/seed.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ids, ok, Q, type OrderView } from '../support/orders.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`test/web/demo.test.ts skipped: ${CHROMIUM} is missing (run scripts/ensure-chromium.sh as root)`);

const STEP_TIMEOUT = 10_000;
const HAPPY_PATH = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];

describe.skipIf(!hasBrowser)('web demo in Chromium', () => {
  let db: TestDatabase;
  let api: TestApi;
  let browser: Browser;
  let service: string;

  beforeAll(async () => {
    db = await freshDatabase();
    await seedDemoData(db.db);
    api = await startTestApi(db);
    service = await api.token('service', 'demo-test-handlers');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await db?.drop();
  });

  /** The handlers' write-backs, as the service role. */
  const handler = {
    validate: async (orderId: string) => ok(await api.gql(Q.validate, { orderId, valid: true }, service)),
    charge: async (orderId: string) => {
      const { order } = ok(await api.gql<{ order: OrderView }>(Q.order, { id: orderId }, service));
      const pending = order.payments.find((p) => p.status === 'pending');
      expect(pending, 'payOrder should have created a pending payment').toBeDefined();
      ok(await api.gql(Q.payResult, { paymentId: pending!.id, succeeded: true, providerRef: 'demo-test' }, service));
    },
    assign: async (orderId: string, driverId: string) => ok(await api.gql(Q.assign, { orderId, driverId }, service)),
  };

  interface Session {
    page: Page;
    errors: string[];
    /** Names of the GraphQL operations POSTed to /graphql, in order, once the page had loaded. */
    postsAfterLoad: string[];
    sockets: string[];
  }

  async function openDemo(): Promise<Session> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const session: Session = { page, errors: [], postsAfterLoad: [], sockets: [] };
    let loaded = false;
    page.on('pageerror', (err) => session.errors.push(err.message));
    page.on('websocket', (ws) => session.sockets.push(ws.url()));
    page.on('request', (req) => {
      if (!loaded || req.method() !== 'POST' || !req.url().endsWith('/graphql')) return;
      const { query } = JSON.parse(req.postData() ?? '{}') as { query?: string };
      session.postsAfterLoad.push(/^\s*(query|mutation|subscription)\s+(\w+)/.exec(query ?? '')?.slice(1).join(' ') ?? 'anonymous');
    });
    await page.goto(`${api.url}/`);
    // Loaded: the menu is drawn, every pane's first query answered and the live feeds connected.
    await page.locator('[data-name="Margherita"]').waitFor({ timeout: STEP_TIMEOUT });
    for (const pane of ['restaurant', 'driver', 'events']) {
      await page.locator(`[data-live="${pane}"][data-state="connected"]`).waitFor({ timeout: STEP_TIMEOUT });
    }
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    loaded = true;
    return session;
  }

  const timelineStep = (page: Page, status: string, state = 'current') =>
    page.locator(`[data-testid="timeline"] li[data-status="${status}"][data-state="${state}"]`).waitFor({ timeout: STEP_TIMEOUT });

  async function placeOrder(page: Page): Promise<string> {
    await page.locator('[data-testid="restaurant-select"]').selectOption(ids.napoli);
    await page.locator('[data-name="Margherita"] [data-testid="qty-plus"]').click();
    await page.locator('[data-name="Margherita"] [data-testid="qty-plus"]').click();
    await page.locator('[data-name="Tiramisu"] [data-testid="qty-plus"]').click();
    await expect.poll(() => page.locator('[data-testid="total"]').textContent()).toBe('$25.50');
    await page.locator('[data-testid="place-order"]').click();
    await timelineStep(page, 'placed');
    const orderId = await page.locator('[data-testid="current-order"]').getAttribute('data-order-id');
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    return orderId!;
  }

  /** The event log's rows for one order, oldest first: [type, actor text]. */
  async function eventLog(page: Page, orderId: string): Promise<Array<[string, string]>> {
    const rows = page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"]`);
    const all = await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-event-type') ?? '', tr.children[3]?.textContent?.trim() ?? '']));
    return (all as Array<[string, string]>).reverse();
  }

  it('a customer watches an order go from placed to delivered, live, while the event log shows each event and its actor', async () => {
    const { page, errors, postsAfterLoad, sockets } = await openDemo();
    const orderId = await placeOrder(page);
    const card = (pane: string) => page.locator(`[data-testid="${pane}"] li[data-order-id="${orderId}"]`);

    // The restaurant pane follows the order's restaurant and sees it arrive.
    await card('restaurant-orders').waitFor({ timeout: STEP_TIMEOUT });

    await handler.validate(orderId);
    await timelineStep(page, 'validated');

    await page.locator('[data-testid="pay"]').click();
    await page.locator('[data-testid="event-log"] tr[data-event-type="payment.requested"]').waitFor({ timeout: STEP_TIMEOUT });
    await handler.charge(orderId);
    await timelineStep(page, 'paid');

    await card('restaurant-orders').locator('[data-testid="approve"]').click();
    await timelineStep(page, 'approved');

    await handler.assign(orderId, ids.dana);
    await timelineStep(page, 'driver_assigned');
    await expect.poll(() => page.locator('[data-testid="driver-as"]').inputValue()).toBe(ids.dana);

    await card('driver-jobs').locator('[data-testid="pick-up"]').click();
    await timelineStep(page, 'picked_up');
    await card('driver-jobs').locator('[data-testid="deliver"]').click();
    await timelineStep(page, 'delivered');

    // Every status was shown, in order, each first seen from a subscription push
    // (placed comes from placeOrder's own answer).
    const steps = await page
      .locator('[data-testid="timeline"] li')
      .evaluateAll((lis) => lis.map((li) => ({ status: li.getAttribute('data-status'), seen: li.getAttribute('data-seen-index'), source: li.getAttribute('data-source') })));
    expect(steps.map((s) => s.status)).toEqual(HAPPY_PATH);
    expect(steps.map((s) => Number(s.seen))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(steps.map((s) => s.source)).toEqual(['reply', 'push', 'push', 'push', 'push', 'push', 'push']);

    // The event log: each event once, in commit order, with the actor whose write caused it.
    await expect
      .poll(() => eventLog(page, orderId).then((rows) => rows.map(([type]) => type)))
      .toEqual(['order.placed', 'order.validated', 'payment.requested', 'order.paid', 'order.approved', 'order.driver_assigned', 'order.picked_up', 'order.delivered']);
    const actors = (await eventLog(page, orderId)).map(([, actor]) => actor);
    expect(actors).toEqual([
      'customer Alice Martin',
      'service demo-test-handlers',
      'customer Alice Martin',
      'service demo-test-handlers',
      'restaurant Pizzeria Napoli',
      'service demo-test-handlers',
      'driver Dana Rider',
      'driver Dana Rider',
    ]);
    await expect(page.locator('[data-testid="event-log"] tr[data-event-type="order.placed"] td.handler').first().textContent()).resolves.toBe('→ validate-order handler');

    // Live, not polled and not reloaded: after the page loaded, the browser sent only mutations.
    expect(postsAfterLoad).toEqual([
      'mutation PlaceOrder',
      'mutation PayOrder',
      'mutation ApproveOrder',
      'mutation PickUpOrder',
      'mutation DeliverOrder',
    ]);
    expect(sockets.length).toBeGreaterThanOrEqual(4);
    expect(sockets.every((url) => url === `${api.url.replace('http', 'ws')}/graphql`)).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(errors).toEqual([]);

    if (process.env.DEMO_SCREENSHOT) await page.screenshot({ path: process.env.DEMO_SCREENSHOT });
    await page.close();
  });

  it('a restaurant declining shows the failure branch, with its reason, in the customer timeline', async () => {
    const { page, errors } = await openDemo();
    const orderId = await placeOrder(page);
    await handler.validate(orderId);
    await timelineStep(page, 'validated');
    await page.locator('[data-testid="pay"]').click();
    await page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"][data-event-type="payment.requested"]`).waitFor({ timeout: STEP_TIMEOUT });
    await handler.charge(orderId);
    await timelineStep(page, 'paid');

    await page.locator(`[data-testid="restaurant-orders"] li[data-order-id="${orderId}"] [data-testid="decline"]`).click();
    await timelineStep(page, 'declined');
    const declined = page.locator('[data-testid="timeline"] li[data-status="declined"]');
    await expect(declined.getAttribute('class')).resolves.toContain('failed');
    await expect(declined.locator('.hint').textContent()).resolves.toBe('The kitchen is too busy');
    // Steps after the branch are struck out, not pending.
    await expect(page.locator('[data-testid="timeline"] li[data-status="approved"]').getAttribute('data-state')).resolves.toBe('skipped');
    // The builder is back for another order.
    await expect(page.locator('[data-testid="place-order"]').isVisible()).resolves.toBe(true);
    await page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"][data-event-type="order.declined"]`).waitFor({ timeout: STEP_TIMEOUT });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rides out dropped WebSockets: it reconnects and shows what changed meanwhile, the event log resuming from its cursor', async () => {
    const sockets: Socket[] = [];
    const track = (_req: unknown, socket: Socket) => void sockets.push(socket);
    api.api.server.on('upgrade', track);
    try {
      const { page, errors } = await openDemo();
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"][data-event-type="order.placed"]`).waitFor({ timeout: STEP_TIMEOUT });

      // The network drops every socket at once; nothing is closed politely.
      for (const socket of sockets) socket.destroy();
      await page.locator('[data-live="customer"][data-state="closed"]').waitFor({ timeout: STEP_TIMEOUT });
      await page.locator('[data-live="events"][data-state="closed"]').waitFor({ timeout: STEP_TIMEOUT });
      await handler.validate(orderId);
      // The change committed while the page was still offline (graphql-ws waits over a second before retrying).
      expect(await page.locator('[data-live="events"]').getAttribute('data-state')).not.toBe('connected');

      await page.locator('[data-live="customer"][data-state="connected"]').waitFor({ timeout: STEP_TIMEOUT });
      await timelineStep(page, 'validated');
      await expect.poll(() => eventLog(page, orderId).then((rows) => rows.map(([type]) => type)), { timeout: STEP_TIMEOUT }).toEqual(['order.placed', 'order.validated']);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      api.api.server.off('upgrade', track);
    }
  });

  it('shows a refused mutation as an error in the pane, then waits for the payment made elsewhere', async () => {
    const { page } = await openDemo();
    const orderId = await placeOrder(page);
    await handler.validate(orderId);
    await timelineStep(page, 'validated');
    // Someone else pays first (a second tab): the page's own pay is then refused with a clear message.
    ok(await api.gql(Q.pay, { orderId }, await api.token('customer', ids.alice)));
    await page.locator('[data-testid="pay"]').click();
    await expect(page.locator('[data-testid="customer-pane"] [role="alert"]').textContent()).resolves.toMatch(/^Order [0-9a-f-]{36} already has payment [0-9a-f-]{36} pending$/);
    // That payment is the one to wait for: no second one can be asked for.
    await expect(page.locator('[data-testid="pay"]').textContent()).resolves.toBe('Payment pending…');
    await expect(page.locator('[data-testid="pay"]').isDisabled()).resolves.toBe(true);
    await handler.charge(orderId);
    await timelineStep(page, 'paid');
    await page.close();
  });
});
