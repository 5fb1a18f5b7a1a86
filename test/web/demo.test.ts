/**
 * The web demo in a real browser against the real system: Debian's headless
 * Chromium, driven by playwright-core, on the page served by `start` in its
 * all-in-one mode (API, dispatcher and the handler functions in one child
 * process, on a fresh database it seeds). The human steps (order, pay,
 * approve, decline, pick up, deliver) are clicks in the demo's panes; the
 * validate-order, charge-payment and assign-driver handlers run for real.
 * The browser reaches the server through a TCP proxy, so a test can cut
 * every connection at once, as a failing network would.
 *
 * What is asserted is what a viewer sees: the customer's timeline moving
 * through the statuses in order without a reload, fed by a subscription (no
 * query is sent after the page loaded), and the event log listing each event
 * with the actor whose write caused it, history included; at desktop width
 * (1280×800) and at phone width (390×844, one pane at a time under a tab
 * bar); and in trusted-documents mode (TRUSTED_DOCUMENTS), where the page
 * and the handler functions still work and an ad-hoc query is refused. Any
 * console error or page error fails a test.
 *
 * The page is Vite's build (web-demo/dist/), built first if missing or stale.
 * Screenshots go to test/artifacts/ (gitignored); the README shows copies.
 */
import { mkdirSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ids } from '../support/orders.js';
import { startAllInOne, type CommandProcess } from '../support/processes.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { ensureDemoBuilt } from './demoBuild.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`test/web/demo.test.ts skipped: ${CHROMIUM} is missing (run scripts/ensure-test-packages.sh as root)`);

const STEP_TIMEOUT = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
const HAPPY_PATH = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];

describe.skipIf(!hasBrowser)('web demo in Chromium, against `start` (all-in-one)', () => {
  let db: TestDatabase;
  let proc: CommandProcess;
  let apiUrl: string;
  let proxy: TcpProxy;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureDemoBuilt();
    db = await freshDatabase();
    ({ proc, baseUrl: apiUrl } = await startAllInOne(urlFor(db.name)));
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(apiUrl).port) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    if (proc) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await db?.drop();
  });

  /** A GraphQL call from elsewhere (another device), straight to the API. */
  async function gqlAs(role: 'customer' | 'restaurant' | 'driver', sub: string, query: string, variables: Record<string, unknown>) {
    const res = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintToken(TEST_SECRET, { role, sub })}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data!;
  }

  interface Session {
    page: Page;
    errors: string[];
    /** The GraphQL operations POSTed to /graphql once the page had loaded, e.g. "mutation PlaceOrder". */
    postsAfterLoad: string[];
    sockets: string[];
    /** Every graphql-ws subscribe the page sent, in order: its operation and variables. */
    subscribes: Array<{ operation: string; variables: Record<string, unknown> }>;
  }

  async function openDemo(viewport = DESKTOP, base = proxy.url): Promise<Session> {
    const page = await browser.newPage({ viewport });
    const session: Session = { page, errors: [], postsAfterLoad: [], sockets: [], subscribes: [] };
    let loaded = false;
    page.on('pageerror', (err) => session.errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') session.errors.push(`console: ${msg.text()}`);
    });
    page.on('websocket', (ws) => {
      session.sockets.push(ws.url());
      ws.on('framesent', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type: string; payload?: { query: string; variables?: Record<string, unknown> } };
        if (message.type !== 'subscribe' || !message.payload) return;
        const operation = /subscription\s+(\w+)/.exec(message.payload.query)?.[1] ?? 'anonymous';
        session.subscribes.push({ operation, variables: message.payload.variables ?? {} });
      });
    });
    page.on('request', (req) => {
      if (!loaded || req.method() !== 'POST' || !req.url().endsWith('/graphql')) return;
      const { query } = JSON.parse(req.postData() ?? '{}') as { query?: string };
      session.postsAfterLoad.push(/^\s*(query|mutation|subscription)\s+(\w+)/.exec(query ?? '')?.slice(1).join(' ') ?? 'anonymous');
    });
    await page.goto(`${base}/`);
    // Loaded: the menu is drawn, every pane's first query answered and its live feed connected.
    await page.locator('[data-name="Margherita"]').waitFor({ timeout: STEP_TIMEOUT });
    for (const pane of ['customer', 'restaurant', 'driver', 'events']) {
      await page.locator(`[data-live="${pane}"][data-state="connected"]`).waitFor({ state: 'attached', timeout: STEP_TIMEOUT });
    }
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    loaded = true;
    return session;
  }

  const timelineStep = (page: Page, status: string, state = 'current') =>
    page.locator(`[data-testid="timeline"] li[data-status="${status}"][data-state="${state}"]`).waitFor({ timeout: STEP_TIMEOUT });

  const eventRow = (page: Page, orderId: string, type: string) =>
    page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"][data-event-type="${type}"]`);

  const card = (page: Page, pane: 'restaurant-orders' | 'driver-jobs', orderId: string) => page.locator(`[data-testid="${pane}"] li[data-order-id="${orderId}"]`);

  async function placeOrder(page: Page, address = '1 Demo Street'): Promise<string> {
    await page.locator('[data-testid="restaurant-select"]').selectOption(ids.napoli);
    await page.locator('[data-name="Margherita"] [data-testid="qty-plus"]').click();
    await page.locator('[data-name="Margherita"] [data-testid="qty-plus"]').click();
    await page.locator('[data-name="Tiramisu"] [data-testid="qty-plus"]').click();
    await expect.poll(() => page.locator('[data-testid="total"]').textContent()).toBe('$25.50');
    await page.locator('[data-testid="address"]').fill(address);
    await page.locator('[data-testid="place-order"]').click();
    await page.locator('[data-testid="current-order"][data-order-id]').waitFor({ timeout: STEP_TIMEOUT });
    const orderId = await page.locator('[data-testid="current-order"]').getAttribute('data-order-id');
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    return orderId!;
  }

  /** Place, have it validated, pay, have it charged: the order waits for the restaurant. */
  async function placeAndPay(page: Page): Promise<string> {
    const orderId = await placeOrder(page);
    await timelineStep(page, 'validated');
    await page.locator('[data-testid="pay"]').click();
    await timelineStep(page, 'paid');
    return orderId;
  }

  /** The event log's rows for one order, oldest first: [type, actor]. */
  async function eventLog(page: Page, orderId: string): Promise<Array<[string, string]>> {
    const rows = page.locator(`[data-testid="event-log"] tr[data-aggregate-id="${orderId}"]`);
    const all = await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-event-type') ?? '', tr.children[3]?.textContent?.trim() ?? '']));
    return (all as Array<[string, string]>).reverse();
  }

  async function timeline(page: Page) {
    return page
      .locator('[data-testid="timeline"] li')
      .evaluateAll((lis) =>
        lis.map((li) => ({
          status: li.getAttribute('data-status')!,
          state: li.getAttribute('data-state'),
          seen: li.hasAttribute('data-seen-index') ? Number(li.getAttribute('data-seen-index')) : null,
          source: li.getAttribute('data-source'),
        })),
      );
  }

  it('a customer watches an order go from placed to delivered, live, while the event log shows each event, its actor and its handler', async () => {
    const { page, errors, postsAfterLoad, sockets } = await openDemo();
    const orderId = await placeOrder(page);
    // The restaurant pane follows the order's restaurant and sees it arrive.
    await card(page, 'restaurant-orders', orderId).waitFor({ timeout: STEP_TIMEOUT });

    await timelineStep(page, 'validated'); // validate-order handler
    await page.locator('[data-testid="pay"]').click();
    await timelineStep(page, 'paid'); // charge-payment handler
    await card(page, 'restaurant-orders', orderId).locator('[data-testid="approve"]').click();
    await timelineStep(page, 'driver_assigned'); // assign-driver handler

    // The driver pane follows the driver the handler chose.
    const { order } = (await gqlAs('customer', ids.alice, 'query($id: ID!) { order(id: $id) { driver { id name } } }', { id: orderId })) as {
      order: { driver: { id: string; name: string } };
    };
    await expect.poll(() => page.locator('[data-testid="driver-as"]').inputValue()).toBe(order.driver.id);
    await card(page, 'driver-jobs', orderId).locator('[data-testid="pick-up"]').click();
    await timelineStep(page, 'picked_up');
    await card(page, 'driver-jobs', orderId).locator('[data-testid="deliver"]').click();
    await timelineStep(page, 'delivered');
    // What order.placed set off, live over causalTree until it settled (test/web/console.test.ts has the tree's shape).
    await page.locator('[data-testid="customer-pane"] [data-testid="causal-tree"][data-settled="true"][data-failed="false"]').waitFor({ timeout: STEP_TIMEOUT });

    // Every step done, in order. Each status the order rested in was shown by a
    // subscription push as it happened (placed by placeOrder's own answer);
    // `approved` lasts only until the assign-driver handler's write, so a push
    // may show it or go straight to driver_assigned (live state sends the latest).
    const steps = await timeline(page);
    expect(steps.map((s) => s.status)).toEqual(HAPPY_PATH);
    expect(steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'current']);
    const seen = steps.filter((s) => s.seen !== null).sort((a, b) => a.seen! - b.seen!);
    expect(seen.map((s) => s.status)).toEqual(HAPPY_PATH.filter((s) => s !== 'approved' || seen.some((x) => x.status === 'approved')));
    expect(seen.map((s) => s.source)).toEqual(['reply', ...seen.slice(1).map(() => 'push')]);

    // The event log: every event once, in commit order, with the actor whose write caused it.
    await expect
      .poll(() => eventLog(page, orderId).then((rows) => rows.map(([type]) => type)))
      .toEqual(['order.placed', 'order.validated', 'payment.requested', 'order.paid', 'order.approved', 'order.driver_assigned', 'order.picked_up', 'order.delivered']);
    const driverActor = `driver ${order.driver.name}`;
    expect((await eventLog(page, orderId)).map(([, actor]) => actor)).toEqual([
      'customer Alice Martin',
      'service handlers',
      'customer Alice Martin',
      'service handlers',
      'restaurant Pizzeria Napoli',
      'service handlers',
      driverActor,
      driverActor,
    ]);
    // "Delivered to" comes from the server's trigger definitions: the two broker handlers, and nothing else
    // (assign-driver is a step of the order-fulfilment workflow now, which no event is routed to).
    expect(await eventRow(page, orderId, 'order.placed').locator('td.handler').textContent()).toBe('→ validate-order');
    expect(await eventRow(page, orderId, 'payment.requested').locator('td.handler').textContent()).toBe('→ charge-payment');
    expect(await eventRow(page, orderId, 'order.approved').locator('td.handler').textContent()).toBe('');
    expect(await eventRow(page, orderId, 'order.paid').locator('td.handler').textContent()).toBe('');

    // Live, not polled and not reloaded: after the page loaded, the browser sent
    // only its own mutations (and one load of the jobs of a driver it switched to).
    const switchedDriver = order.driver.id !== ids.dana;
    expect(postsAfterLoad).toEqual([
      'mutation PlaceOrder',
      'mutation PayOrder',
      'mutation ApproveOrder',
      ...(switchedDriver ? ['query DriverJobs'] : []),
      'mutation PickUpOrder',
      'mutation DeliverOrder',
    ]);
    expect(sockets.length).toBeGreaterThanOrEqual(4);
    expect(new Set(sockets)).toEqual(new Set([`${proxy.url.replace('http', 'ws')}/graphql`]));
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(errors).toEqual([]);

    await page.screenshot({ path: `${ARTIFACTS}demo-desktop.png` });
    await page.close();
  });

  it('an order the validate-order handler rejects shows the failure, with its reason, in the timeline', async () => {
    const { page, errors } = await openDemo();
    const orderId = await placeOrder(page, 'Somewhere without a number');
    await timelineStep(page, 'rejected');
    const rejected = page.locator('[data-testid="timeline"] li[data-status="rejected"]');
    expect(await rejected.getAttribute('class')).toContain('failed');
    expect(await rejected.locator('.hint').textContent()).toBe('the delivery address has no street number');
    // Steps after the branch are struck out, and the builder is back for another order.
    expect(await page.locator('[data-testid="timeline"] li[data-status="validated"]').getAttribute('data-state')).toBe('skipped');
    expect(await page.locator('[data-testid="place-order"]').isVisible()).toBe(true);
    await eventRow(page, orderId, 'order.rejected').waitFor({ timeout: STEP_TIMEOUT });
    expect(await eventRow(page, orderId, 'order.rejected').locator('td').nth(3).textContent()).toBe('service handlers');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a restaurant declining in its pane shows the refunded branch, with its reason, to the customer', async () => {
    const { page, errors } = await openDemo();
    const orderId = await placeAndPay(page);
    await card(page, 'restaurant-orders', orderId).locator('[data-testid="decline"]').click();
    // The order workflow refunds a declined order at once.
    await timelineStep(page, 'refunded');
    expect(await page.locator('[data-testid="timeline"] li[data-status="refunded"] .hint').textContent()).toBe(
      'the restaurant declined: your payment was refunded',
    );
    expect(await page.locator('[data-testid="timeline"] li[data-status="approved"]').getAttribute('data-state')).toBe('skipped');
    await eventRow(page, orderId, 'order.declined').waitFor({ timeout: STEP_TIMEOUT });
    await eventRow(page, orderId, 'order.refunded').waitFor({ timeout: STEP_TIMEOUT });
    await page.locator(`[data-testid="restaurant-orders"] li[data-order-id="${orderId}"][data-status="refunded"]`).waitFor({ timeout: STEP_TIMEOUT });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rides out a network drop: a stale click is refused with a clear message, then the page catches up and the event log resumes from its cursor', async () => {
    const { page, errors, subscribes } = await openDemo();
    const orderId = await placeAndPay(page);
    await eventRow(page, orderId, 'order.paid').waitFor({ timeout: STEP_TIMEOUT });
    const paidVersion = Number(/v(\d+)/.exec((await page.locator('[data-testid="timeline"] li[data-status="paid"] .when').textContent()) ?? '')?.[1]);
    const firstEvents = subscribes.find((s) => s.operation === 'EventsLive')!.variables.after;
    const beforeDrop = subscribes.length;

    // Every connection dies at once; the page cannot hear anything for a while
    // (graphql-ws waits over a second before it reconnects).
    proxy.dropAll();
    await page.locator('[data-live="events"][data-state="closed"]').waitFor({ timeout: STEP_TIMEOUT });
    // Meanwhile the restaurant approves on another device, and assign-driver runs.
    await gqlAs('restaurant', ids.napoli, 'mutation($id: ID!) { approveOrder(orderId: $id) { id } }', { id: orderId });
    // The page still offers Approve, since no push reached it: its click is refused, and says why.
    await card(page, 'restaurant-orders', orderId).locator('[data-testid="approve"]').click();
    const alert = page.locator('[data-testid="restaurant-pane"] [role="alert"]');
    await alert.waitFor({ timeout: STEP_TIMEOUT });
    expect(await alert.textContent()).toMatch(new RegExp(`^Order ${orderId} is (approved|driver_assigned); approveOrder needs status paid$`));
    // That all happened before the page was back.
    expect(await page.locator('[data-live="events"]').getAttribute('data-state')).not.toBe('connected');

    // Back online: the timeline catches up to the latest state, and the event log
    // shows exactly the events it missed (resumed after its last cursor).
    await timelineStep(page, 'driver_assigned');
    // Each pane has its own subscription: the restaurant's catches up on its own schedule.
    await expect
      .poll(() => card(page, 'restaurant-orders', orderId).getAttribute('data-status'), { timeout: STEP_TIMEOUT })
      .toBe('driver_assigned');
    await expect
      .poll(() => eventLog(page, orderId).then((rows) => rows.map(([type]) => type)), { timeout: STEP_TIMEOUT })
      .toEqual(['order.placed', 'order.validated', 'payment.requested', 'order.paid', 'order.approved', 'order.driver_assigned']);
    // Resumed by the page's own code, not by graphql-ws's replay of the first variables: the order
    // from the version it showed, the event log from the last cursor it showed.
    const resumed = subscribes.slice(beforeDrop);
    expect(resumed.filter((s) => s.operation === 'OrderLive').map((s) => s.variables)).toEqual([{ id: orderId, afterVersion: paidVersion }]);
    const events = resumed.filter((s) => s.operation === 'EventsLive').map((s) => s.variables.after);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^\d+:\d+$/);
    expect(events[0]).not.toBe(firstEvents);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens with history: the event log shows the events committed before the page loaded', async () => {
    // The orders of the tests above are history now: nothing new happens while this page loads.
    const { page, errors } = await openDemo();
    const rows = page.locator('[data-testid="event-log"] tr[data-event-type]');
    expect(await rows.count()).toBeGreaterThan(10);
    expect(await page.locator('[data-testid="event-log"] tr[data-event-type="order.delivered"]').count()).toBeGreaterThanOrEqual(1);
    // Newest first, as live rows land.
    const times = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[0]?.textContent ?? ''));
    expect(times).toEqual([...times].sort().reverse());
    expect(errors).toEqual([]);
    await page.close();
  });

  it('at phone width (390×844): one pane at a time under a tab bar, the header on one line, the page scrolls, and a whole order works across the tabs', async () => {
    // The page resumes the customer's latest order while it is under way: finish the one the network-drop test left.
    const { myOrders } = (await gqlAs('customer', ids.alice, '{ myOrders(first: 1) { edges { node { id status driver { id } } } } }', {})) as {
      myOrders: { edges: Array<{ node: { id: string; status: string; driver: { id: string } | null } }> };
    };
    const open = myOrders.edges[0]?.node;
    if (open?.status === 'driver_assigned' && open.driver) {
      await gqlAs('driver', open.driver.id, 'mutation($id: ID!) { pickUpOrder(orderId: $id) { id } }', { id: open.id });
      await gqlAs('driver', open.driver.id, 'mutation($id: ID!) { deliverOrder(orderId: $id) { id } }', { id: open.id });
    }
    const { page, errors } = await openDemo(PHONE);
    const tab = (name: string) => page.locator(`[data-testid="tab-${name}"]`);
    const visible = async () =>
      page.locator('.grid > .pane').evaluateAll((panes) => panes.filter((p) => (p as HTMLElement).offsetParent !== null).map((p) => p.getAttribute('data-testid')));

    // The header is one line: no taller than its title.
    const header = await page.locator('header.top').boundingBox();
    const title = await page.locator('header.top h1').boundingBox();
    expect(header!.height).toBeLessThan(title!.height + 20);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await visible()).toEqual(['customer-pane']);
    expect(await tab('customer').getAttribute('aria-selected')).toBe('true');
    await page.screenshot({ path: `${ARTIFACTS}demo-phone-customer.png` });

    // Keyboard: arrows move between tabs, and the pane follows.
    await tab('customer').focus();
    await page.keyboard.press('ArrowRight');
    expect(await tab('restaurant').getAttribute('aria-selected')).toBe('true');
    expect(await visible()).toEqual(['restaurant-pane']);
    await page.keyboard.press('ArrowLeft');
    expect(await visible()).toEqual(['customer-pane']);

    const orderId = await placeOrder(page, '2 Phone Street');
    await timelineStep(page, 'validated');
    await page.locator('[data-testid="pay"]').click();
    await timelineStep(page, 'paid');
    await tab('restaurant').click();
    expect(await visible()).toEqual(['restaurant-pane']);
    await card(page, 'restaurant-orders', orderId).locator('[data-testid="approve"]').click();
    await tab('driver').click();
    await card(page, 'driver-jobs', orderId).locator('[data-testid="pick-up"]').click({ timeout: STEP_TIMEOUT });
    await card(page, 'driver-jobs', orderId).locator('[data-testid="deliver"]').click({ timeout: STEP_TIMEOUT });
    await tab('customer').click();
    await timelineStep(page, 'delivered', 'current');

    // The event log: history (the tests above, run first, left dozens of events) and this order,
    // a page taller than the screen, and it scrolls (no body{overflow:hidden} at this width).
    await tab('events').click();
    await eventRow(page, orderId, 'order.delivered').waitFor({ timeout: STEP_TIMEOUT });
    const scrolled = await page.evaluate(() => {
      window.scrollTo(0, 400);
      return { y: window.scrollY, height: document.documentElement.scrollHeight };
    });
    expect(scrolled.height).toBeGreaterThan(PHONE.height);
    expect(scrolled.y).toBeGreaterThan(0);
    // The tab bar stays at hand while scrolled.
    expect((await page.locator('.tabs').boundingBox())!.y).toBeLessThanOrEqual(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${ARTIFACTS}demo-phone-events.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  describe('in trusted-documents mode (TRUSTED_DOCUMENTS)', () => {
    let trustedDb: TestDatabase;
    let trusted: CommandProcess;
    let trustedUrl: string;
    beforeAll(async () => {
      trustedDb = await freshDatabase();
      ({ proc: trusted, baseUrl: trustedUrl } = await startAllInOne(urlFor(trustedDb.name), { TRUSTED_DOCUMENTS: 'schema/trusted-documents.json' }));
    });
    afterAll(async () => {
      if (trusted) {
        trusted.child.kill('SIGTERM');
        await trusted.exited;
      }
      await trustedDb?.drop();
    });

    it('serves the demo, whose every operation and every handler write-back runs, and refuses an ad-hoc query from the same page', async () => {
      const { page, errors } = await openDemo(DESKTOP, trustedUrl);
      const orderId = await placeOrder(page);
      await timelineStep(page, 'validated'); // validate-order's write-back, a trusted document
      await page.locator('[data-testid="pay"]').click();
      await timelineStep(page, 'paid'); // charge-payment's
      await card(page, 'restaurant-orders', orderId).locator('[data-testid="approve"]').click();
      await timelineStep(page, 'driver_assigned'); // assign-driver's read and write-back
      await eventRow(page, orderId, 'order.driver_assigned').waitFor({ timeout: STEP_TIMEOUT });
      expect(errors).toEqual([]);

      const adhoc = await page.evaluate(async () => {
        const tokens = (await (await fetch('/demo/tokens')).json()) as { admin: { token: string } };
        const res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${tokens.admin.token}` },
          body: JSON.stringify({ query: '{ deliveries(first: 100) { edges { node { id } } } }' }),
        });
        return { status: res.status, body: (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> } };
      });
      expect(adhoc.status).toBe(400);
      expect(adhoc.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
      // Chromium reports the refused request itself ("Failed to load resource: … 400"), and nothing else.
      expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
      await page.close();
    });
  });
});
