/**
 * The operations console and the customer's causal tree in a real browser
 * (Debian's headless Chromium through playwright-core) against `start` in
 * its all-in-one mode on a fresh seeded database, plus one test-only trigger
 * from TRIGGERS_FILE (Hasura metadata): `audit-orders`, every new row of
 * public.orders to a webhook receiver of this test, no retries, so while the
 * receiver answers 500 each order leaves a dead letter.
 *
 * What is asserted is what an operator sees: a customer's order and its
 * causal tree reaching "settled"; the dead letter appearing in the console,
 * its attempts, redelivered from the console and turning delivered, all
 * without a reload and without the page polling; pause and resume; both
 * widths. And in production with DEMO_CONSOLE=true: no token route, the
 * console on an admin token the operator enters, a non-admin token refused.
 * Any console error or page error fails a test. Screenshots go to
 * test/artifacts/ (the README shows copies, docs/screenshots/).
 */
import { mkdirSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ids } from '../support/orders.js';
import { commandEnv, runCommand, startAllInOne, stopProcess, type CommandProcess } from '../support/processes.js';
import { startReceiver, waitFor, type Receiver } from '../support/receiver.js';
import { ensureDemoBuilt } from './demoBuild.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`test/web/console.test.ts skipped: ${CHROMIUM} is missing (run scripts/ensure-test-packages.sh as root)`);

const STEP = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
const AUDIT = 'audit-orders';

describe.skipIf(!hasBrowser)('operations console and causal tree in Chromium, against `start` (all-in-one)', () => {
  let db: TestDatabase;
  let proc: CommandProcess;
  let apiUrl: string;
  let browser: Browser;
  let receiver: Receiver;
  let dir: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureDemoBuilt();
    receiver = await startReceiver(() => ({ status: 500, body: 'audit store is down' }));
    dir = await mkdtemp(path.join(tmpdir(), 'tf-console-'));
    const triggersFile = path.join(dir, 'triggers.json');
    await writeFile(
      triggersFile,
      JSON.stringify({
        type: 'bulk',
        args: [
          {
            type: 'create_event_trigger',
            args: { name: AUDIT, table: { schema: 'public', name: 'orders' }, webhook: `${receiver.url}/audit`, insert: { columns: '*' }, retry_conf: { num_retries: 0, interval_sec: 1, timeout_sec: 5 } },
          },
        ],
      }),
    );
    db = await freshDatabase();
    ({ proc, baseUrl: apiUrl } = await startAllInOne(urlFor(db.name), { TRIGGERS_FILE: triggersFile }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await stopProcess(proc);
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await db?.drop();
  });

  async function gql<T = Record<string, unknown>>(token: string, query: string, variables: Record<string, unknown> = {}, base = apiUrl): Promise<T> {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data!;
  }
  const admin = () => mintToken(TEST_SECRET, { role: 'admin', sub: 'console-test' });
  const alice = () => mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice });

  interface Session {
    page: Page;
    errors: string[];
    /** GraphQL operations POSTed once `markLoaded()` was called. */
    posts: string[];
    /** graphql-ws frames received (pushes included). */
    frames: { count: number };
    markLoaded(): void;
  }

  async function open(url: string, viewport = DESKTOP): Promise<Session> {
    const page = await browser.newPage({ viewport });
    let loaded = false;
    const session: Session = { page, errors: [], posts: [], frames: { count: 0 }, markLoaded: () => (loaded = true) };
    page.on('pageerror', (err) => session.errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') session.errors.push(`console: ${msg.text()}`);
    });
    page.on('websocket', (ws) => ws.on('framereceived', () => session.frames.count++));
    page.on('request', (req) => {
      if (!loaded || req.method() !== 'POST' || !req.url().endsWith('/graphql')) return;
      const { query } = JSON.parse(req.postData() ?? '{}') as { query?: string };
      session.posts.push(/^\s*(query|mutation)\s+(\w+)/.exec(query ?? '')?.slice(1).join(' ') ?? 'anonymous');
    });
    await page.goto(url);
    return session;
  }

  async function openConsole(viewport = DESKTOP, base = apiUrl): Promise<Session> {
    const session = await open(`${base}/demo/#/operations`, viewport);
    await session.page.locator('[data-live="operations"][data-state="connected"]').waitFor({ timeout: STEP });
    await session.page.locator(`#ops-triggers tr[data-trigger="validate-order"]`).waitFor({ timeout: STEP });
    return session;
  }

  const triggerRow = (page: Page, name: string) => page.locator(`#ops-triggers tr[data-trigger="${name}"]`);

  async function placeOrderInPage(page: Page, address = '1 Demo Street'): Promise<string> {
    await page.locator('[data-name="Margherita"]').waitFor({ timeout: STEP });
    await page.locator('[data-testid="restaurant-select"]').selectOption(ids.napoli);
    await page.locator('[data-name="Margherita"] [data-testid="qty-plus"]').click();
    await page.locator('[data-name="Tiramisu"] [data-testid="qty-plus"]').click();
    await page.locator('[data-testid="address"]').fill(address);
    await page.locator('[data-testid="place-order"]').click();
    await page.locator('[data-testid="current-order"][data-order-id]').waitFor({ timeout: STEP });
    return (await page.locator('[data-testid="current-order"]').getAttribute('data-order-id'))!;
  }

  it("a customer's order shows its causal tree live until it settles (order.placed └─ validate-order ✓ └─ order.validated)", async () => {
    const { page, errors } = await open(`${apiUrl}/demo/`);
    const orderId = await placeOrderInPage(page);
    const tree = page.locator('[data-testid="customer-pane"] [data-testid="causal-tree"]');
    await tree.and(page.locator('[data-settled="true"]')).waitFor({ timeout: STEP });
    expect(await tree.getAttribute('data-failed')).toBe('false');
    expect(await tree.locator('[data-testid="tree-status"]').textContent()).toBe('settled');
    // The tree, as drawn: the root, its delivery, the event that delivery's handler wrote.
    const root = tree.locator('li.tree-event[data-event-type="order.placed"]');
    const validate = root.locator(':scope > ul > li.tree-delivery[data-trigger="validate-order"]');
    expect(await validate.getAttribute('data-state')).toBe('delivered');
    expect(await validate.locator('.tree-line').textContent()).toMatch(/^validate-order ✓ \d+ ms$/);
    expect(await validate.locator('li.tree-event').getAttribute('data-event-type')).toBe('order.validated');
    // The audit trigger watches the table, not order.placed: its dead letter is no part of this tree.
    expect(await tree.locator(`[data-trigger="${AUDIT}"]`).count()).toBe(0);
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    await page.locator('[data-testid="customer-pane"]').screenshot({ path: `${ARTIFACTS}causal-tree-desktop.png` });

    // At phone width the same page reflows: one pane, no sideways scrolling, the tree under the timeline.
    await page.setViewportSize(PHONE);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await tree.isVisible()).toBe(true);
    await tree.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}causal-tree-phone.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a forced dead letter appears in the console with its attempts, is redelivered from it and turns delivered; nothing polls', async () => {
    const { page, errors, posts, frames, markLoaded } = await openConsole();
    // The order of the test above left one dead letter (the receiver answered 500).
    await expect.poll(() => triggerRow(page, AUDIT).getAttribute('data-dead'), { timeout: STEP }).toBe('1');
    const dead = page.locator(`#ops-dead tr[data-trigger="${AUDIT}"]`);
    await dead.waitFor({ timeout: STEP });
    expect(await dead.locator('.last-error').textContent()).toContain('HTTP 500');

    // Quiet: stats keep arriving over the socket, and the page sends nothing.
    markLoaded();
    const framesBefore = frames.count;
    await page.waitForTimeout(3_000);
    expect(posts).toEqual([]);
    expect(frames.count - framesBefore).toBeGreaterThanOrEqual(2);

    // Drill down: every attempt of the delivery.
    const deliveryId = (await dead.getAttribute('data-delivery-id'))!;
    await dead.locator('[data-testid="attempts"]').click();
    const detail = page.locator(`[data-testid="delivery-detail"][data-delivery-id="${deliveryId}"]`);
    await detail.waitFor({ timeout: STEP });
    expect(await detail.getAttribute('data-status')).toBe('dead');
    const attempts = page.locator('[data-testid="attempts-table"] tbody tr');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().getAttribute('data-outcome')).toBe('dead');
    await page.screenshot({ path: `${ARTIFACTS}console-dead-letter-desktop.png`, fullPage: true });

    // The receiver is back; redeliver from the dead-letter list.
    receiver.respond(() => ({ status: 200 }));
    await dead.locator('[data-testid="redeliver"]').click();
    // Live: the list, the detail and the counts follow the engine's events, with no reload.
    await page.locator(`#ops-dead tr[data-delivery-id="${deliveryId}"]`).waitFor({ state: 'detached', timeout: STEP });
    await page.locator(`[data-testid="delivery-detail"][data-delivery-id="${deliveryId}"][data-status="delivered"]`).waitFor({ timeout: STEP });
    expect(await page.locator('[data-testid="attempts-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-outcome')))).toEqual(['dead', 'delivered']);
    await expect.poll(() => triggerRow(page, AUDIT).getAttribute('data-dead'), { timeout: STEP }).toBe('0');
    const { delivery } = await gql<{ delivery: { status: string; attemptCount: number } }>(await admin(), 'query($id: ID!) { delivery(id: $id) { status attemptCount } }', { id: deliveryId });
    expect(delivery).toEqual({ status: 'delivered', attemptCount: 2 });
    expect(receiver.forTrigger(AUDIT).at(-1)?.path).toBe('/audit');
    // The only requests after load were the operator's own and the re-reads the engine's events asked for.
    expect(new Set(posts)).toEqual(new Set(['query DeliveryDetail', 'mutation RedeliverDeliveries', 'query DeadLetters']));

    // The causal tree of that delivery's event, from the console.
    await page.locator('[data-testid="delivery-detail"] button', { hasText: 'Causal tree' }).click();
    const tree = page.locator('#ops-tree [data-testid="causal-tree"][data-settled="true"]');
    await tree.waitFor({ timeout: STEP });
    expect(await tree.locator(`li.tree-delivery[data-trigger="${AUDIT}"]`).getAttribute('data-state')).toBe('delivered');

    // The charts drew the attempts.
    expect(await page.locator('[data-testid="chart-throughput"] polyline').first().getAttribute('points')).not.toBe('');
    await page.screenshot({ path: `${ARTIFACTS}console-desktop.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('pauses and resumes a trigger from the console (deliveries queue while paused, then go out), and replays by filter', async () => {
    const { page, errors } = await openConsole();
    const row = triggerRow(page, AUDIT);
    await row.locator('[data-testid="pause-toggle"]').click();
    await expect.poll(() => row.getAttribute('data-paused'), { timeout: STEP }).toBe('true');
    const token = await admin();
    const read = async () => (await gql<{ eventTrigger: { paused: boolean; pending: number } }>(token, '{ eventTrigger(name: "audit-orders") { paused pending } }')).eventTrigger;
    expect((await read()).paused).toBe(true);

    // An order from elsewhere while paused: its audit delivery waits.
    const sent = receiver.forTrigger(AUDIT).length;
    await gql(await alice(), 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', {
      input: { restaurantId: ids.napoli, deliveryAddress: '3 Paused Road', items: [{ menuItemId: ids.margherita, quantity: 1 }] },
    });
    await expect.poll(() => row.getAttribute('data-pending'), { timeout: STEP }).toBe('1');
    expect(await row.locator('td').nth(1).textContent()).toContain('paused');
    expect(receiver.forTrigger(AUDIT).length).toBe(sent);

    await row.locator('[data-testid="pause-toggle"]').click();
    await expect.poll(() => row.getAttribute('data-paused'), { timeout: STEP }).toBe('false');
    await waitFor('the queued audit delivery', () => receiver.forTrigger(AUDIT).length === sent + 1, STEP);
    await expect.poll(() => row.getAttribute('data-pending'), { timeout: STEP }).toBe('0');
    expect(await read()).toEqual({ paused: false, pending: 0 });

    // Replay by filter: the newest order row's event, once more, to the audit trigger only.
    const before = receiver.forTrigger(AUDIT).length;
    await page.locator('[data-testid="replay-trigger"]').selectOption(AUDIT);
    await page.locator('[data-testid="replay-types"]').fill('public.orders.INSERT');
    await page.locator('#replay-limit').fill('1');
    await page.locator('[data-testid="replay-submit"]').click();
    await expect.poll(() => page.locator('[data-testid="replay-result"]').textContent(), { timeout: STEP }).toMatch(/^1 event replayed to audit-orders; more remain: continue after \d+:\d+\.$/);
    await waitFor('the replayed delivery', () => receiver.forTrigger(AUDIT).length === before + 1, STEP);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('works at phone width (390×844): the console stacks and scrolls without sideways overflow', async () => {
    const { page, errors } = await openConsole(PHONE);
    await page.locator(`#ops-triggers tr[data-trigger="${AUDIT}"]`).waitFor({ timeout: STEP });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const header = await page.locator('header.top').boundingBox();
    const title = await page.locator('header.top h1').boundingBox();
    expect(header!.height).toBeLessThan(title!.height + 20);
    // Stacked: the dead letters under the triggers, not beside them.
    const triggersBox = await page.locator('#ops-triggers').boundingBox();
    const deadBox = await page.locator('#ops-dead').boundingBox();
    expect(deadBox!.y).toBeGreaterThan(triggersBox!.y + triggersBox!.height - 1);
    expect(deadBox!.width).toBeLessThanOrEqual(PHONE.width);
    const scrolled = await page.evaluate(() => {
      window.scrollTo(0, 600);
      return window.scrollY;
    });
    expect(scrolled).toBeGreaterThan(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${ARTIFACTS}console-phone.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  describe('in production with DEMO_CONSOLE=true', () => {
    let prodDb: TestDatabase;
    let prod: CommandProcess;
    let prodUrl: string;
    beforeAll(async () => {
      prodDb = await freshDatabase();
      prod = runCommand(['start'], commandEnv(urlFor(prodDb.name), { NODE_ENV: 'production', DEMO_CONSOLE: 'true', WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}` }));
      const listening = await prod.waitForLog((l) => l.msg === 'api listening', 30_000);
      prodUrl = String(listening.url).replace(/\/graphql$/, '');
    }, 60_000);
    afterAll(async () => {
      await stopProcess(prod);
      await prodDb?.drop();
    });

    it('serves no token route and no demo view; the console runs on the admin token the operator enters, and refuses any other', async () => {
      expect((await fetch(`${prodUrl}/demo/tokens`)).status).toBe(404);
      expect(await (await fetch(`${prodUrl}/demo/settings.json`)).json()).toEqual({ demo: false, console: true, tokens: false });

      const { page, errors } = await open(`${prodUrl}/demo/`);
      const input = page.locator('[data-testid="admin-token"]');
      await input.waitFor({ timeout: STEP });
      // A customer's token is not an admin's: refused, and not kept.
      await input.fill(await alice());
      await page.locator('[data-testid="sign-in"]').click();
      await page.locator('.token-form [role="alert"]', { hasText: 'not an admin' }).waitFor({ timeout: STEP });
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

      await page.locator('[data-testid="admin-token"]').fill(await admin());
      await page.locator('[data-testid="sign-in"]').click();
      await page.locator('[data-live="operations"][data-state="connected"]').waitFor({ timeout: STEP });
      // The console runs: its first stats arrived (no dispatcher ran here, so no trigger is synced yet).
      await page.locator('#ops-triggers [data-state="empty"]', { hasText: 'No triggers are defined.' }).waitFor({ timeout: STEP });
      await page.locator('#ops-dead [data-state="empty"]').waitFor({ timeout: STEP });
      expect(await page.locator('[data-testid="nav-demo"]').count()).toBe(0);
      // Kept for this tab only.
      expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['threefactor.operatorToken']);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      // Chromium reports the refused probe itself ("Failed to load resource: … 40x"), and nothing else.
      expect(errors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
