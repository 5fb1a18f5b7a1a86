/**
 * The live demo view: the customer, restaurant and driver panes over the
 * event log. At desktop width all four are on screen; at phone width one at a
 * time, under a tab bar (a WAI-ARIA tablist: arrow keys, Home and End move
 * between tabs). The restaurant and driver panes follow the customer's
 * current order (its restaurant, then its assigned driver) unless you pick
 * another yourself.
 */
import { run, createActorClient, type LiveState } from '../client.js';
import { fill, h } from '../dom.js';
import type { OrderFieldsFragment } from '../gql/graphql.js';
import { RESTAURANTS } from '../operations.js';
import { demoTokens, type DemoActor } from '../tokens.js';
import { mountCustomer } from './customer.js';
import { mountDriver } from './driver.js';
import { mountEventLog } from './eventLog.js';
import type { OrderFeed } from './orderFeed.js';
import { mountRestaurant } from './restaurant.js';

type PaneName = 'customer' | 'restaurant' | 'driver' | 'events';

const LIVE_LABELS: Record<LiveState, string> = { idle: 'idle', connecting: 'connecting…', connected: 'live', closed: 'reconnecting…' };

function liveBadge(name: PaneName, title: string): HTMLElement {
  return h('span', { class: 'live', dataset: { live: name, state: 'idle' }, title, role: 'status' }, 'idle');
}

function liveIndicator(root: HTMLElement, name: PaneName): (state: LiveState) => void {
  const badge = root.querySelector<HTMLElement>(`[data-live="${name}"]`);
  const dot = root.querySelector<HTMLElement>(`[data-live-dot="${name}"]`);
  return (state) => {
    if (badge) {
      badge.dataset.state = state;
      badge.textContent = LIVE_LABELS[state];
    }
    if (dot) dot.dataset.state = state;
  };
}

function pane(name: PaneName, title: string, head: Array<Node | string>, body: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: `pane ${name}`, id: `pane-${name}`, 'data-testid': name === 'events' ? 'event-log' : `${name}-pane`, 'aria-label': title },
    h('header', {}, h('h2', {}, title), ...head),
    body,
  );
}

/** The phone-width tab bar; at desktop width it is hidden and every pane shows. */
function tabBar(root: HTMLElement, panes: Array<[PaneName, string]>): HTMLElement {
  const tabs = panes.map(([name, label]) =>
    h(
      'button',
      { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `pane-${name}`, 'data-testid': `tab-${name}`, dataset: { pane: name } },
      label,
      h('span', { class: 'live dot-only', dataset: { liveDot: name, state: 'idle' }, 'aria-hidden': 'true' }),
    ),
  );
  const select = (name: PaneName, focus = false) => {
    root.dataset.pane = name;
    for (const tab of tabs) {
      const on = tab.dataset.pane === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
  };
  const bar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Demo panes' }, tabs);
  // Panes are tab panels only while the tab bar shows (phone width); side by side they are plain regions.
  const phone = matchMedia('(max-width: 760px)');
  const roles = () => {
    for (const [name] of panes) {
      const el = root.querySelector<HTMLElement>(`#pane-${name}`);
      if (!el) continue;
      if (phone.matches) {
        el.setAttribute('role', 'tabpanel');
        el.setAttribute('aria-labelledby', `tab-${name}`);
      } else {
        el.setAttribute('role', 'region');
        el.removeAttribute('aria-labelledby');
      }
    }
  };
  phone.addEventListener('change', roles);
  queueMicrotask(roles);
  bar.addEventListener('click', (e) => {
    const tab = (e.target as Element).closest<HTMLButtonElement>('[role="tab"]');
    if (tab) select(tab.dataset.pane as PaneName);
  });
  bar.addEventListener('keydown', (e) => {
    const at = tabs.findIndex((t) => t.dataset.pane === root.dataset.pane);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    select(tabs[(to + tabs.length) % tabs.length]!.dataset.pane as PaneName, true);
  });
  select(panes[0]![0]);
  return bar;
}

/** A pane whose actor can be switched: remounts its feed for the chosen one. */
function switchable(select: HTMLSelectElement, actors: DemoActor[], mount: (actor: DemoActor) => OrderFeed): { use(id: string): void } {
  let current: { id: string; feed: OrderFeed } | undefined;
  fill(select, actors.map((a) => h('option', { value: a.id }, a.name)));
  const use = (id: string) => {
    const actor = actors.find((a) => a.id === id);
    if (!actor) return;
    select.value = id;
    if (current?.id === id) return;
    current?.feed.stop();
    current = { id, feed: mount(actor) };
  };
  select.addEventListener('change', () => use(select.value));
  if (actors[0]) use(actors[0].id);
  return { use };
}

export async function mountLiveDemo(root: HTMLElement): Promise<void> {
  const tokens = await demoTokens();
  const customer = tokens.customers[0];
  if (!customer) throw new Error('No demo customer: load the demo data with "npm run seed", then reload.');
  const names = new Map([tokens.admin, ...tokens.customers, ...tokens.restaurants, ...tokens.drivers].map((a) => [a.id, a.name]));

  const customerBody = h('div', { class: 'body', id: 'customer' }, h('p', { class: 'placeholder loading', 'aria-busy': 'true' }, 'Loading the menu…'));
  const restaurantAs = h('select', { id: 'restaurant-as', 'aria-label': 'Acting as restaurant', 'data-testid': 'restaurant-as' });
  const restaurantList = h('ul', { class: 'body feed', id: 'restaurant-orders', 'data-testid': 'restaurant-orders', 'aria-label': 'Restaurant orders' });
  const driverAs = h('select', { id: 'driver-as', 'aria-label': 'Acting as driver', 'data-testid': 'driver-as' });
  const driverList = h('ul', { class: 'body feed', id: 'driver-jobs', 'data-testid': 'driver-jobs', 'aria-label': 'Driver jobs' });
  const events = h('tbody', { id: 'events' });

  const grid = h(
    'div',
    { class: 'grid' },
    pane('customer', 'Customer', [h('span', { class: 'who', 'data-testid': 'customer-name' }, customer.name), liveBadge('customer', 'order(id) subscription')], customerBody),
    pane('restaurant', 'Restaurant', [restaurantAs, liveBadge('restaurant', 'restaurantOrders subscription')], restaurantList),
    pane('driver', 'Driver', [driverAs, liveBadge('driver', 'driverJobs subscription')], driverList),
    pane(
      'events',
      'Event log',
      [h('span', { class: 'who' }, 'admin · ', h('code', {}, 'events'), ' · newest first'), liveBadge('events', 'events subscription')],
      h(
        'div',
        { class: 'body scroll' },
        h(
          'table',
          { 'aria-label': 'Event log' },
          h('thead', {}, h('tr', {}, ['time', 'event', 'aggregate', 'actor (session)', 'state', 'delivered to'].map((c) => h('th', { scope: 'col' }, c)))),
          events,
        ),
      ),
    ),
  );
  const tabs = tabBar(root, [
    ['customer', 'Customer'],
    ['restaurant', 'Restaurant'],
    ['driver', 'Driver'],
    ['events', 'Events'],
  ]);
  fill(root, tabs, grid);

  // The customer's client reads the restaurants (and their menus) before its pane mounts.
  const customerClient = createActorClient({ kind: 'customers', id: customer.id }, liveIndicator(root, 'customer'));
  const { restaurants } = await run(customerClient, RESTAURANTS, {});
  if (!restaurants.length) throw new Error('No restaurants: load the demo data with "npm run seed", then reload.');

  mountEventLog(events, { names, setLive: liveIndicator(root, 'events') });
  const restaurantPane = switchable(restaurantAs, tokens.restaurants, (restaurant) => mountRestaurant(restaurantList, { restaurant, setLive: liveIndicator(root, 'restaurant') }));
  const driverPane = switchable(driverAs, tokens.drivers, (driver) => mountDriver(driverList, { driver, setLive: liveIndicator(root, 'driver') }));

  let followed: { orderId: string; driver?: string } | undefined;
  mountCustomer(customerBody, {
    actor: customerClient,
    restaurants,
    onOrder(order: OrderFieldsFragment) {
      // Follow each new order's restaurant once, and its driver once one is assigned,
      // without fighting a choice made by hand afterwards.
      if (followed?.orderId !== order.id) {
        followed = { orderId: order.id };
        restaurantPane.use(order.restaurant.id);
      }
      if (order.driver && followed.driver !== order.driver.id) {
        followed.driver = order.driver.id;
        driverPane.use(order.driver.id);
      }
    },
  });
}
