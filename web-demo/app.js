// The demo's entry point: fetch the demo tokens and the restaurants, then
// mount the customer, restaurant and driver panes and the event log. The
// restaurant and driver panes follow the customer's current order (its
// restaurant, then its assigned driver) unless you pick another yourself.
import { mountCustomer } from './customer.js';
import { fill, h } from './dom.js';
import { mountDriver } from './driver.js';
import { mountEventLog } from './eventLog.js';
import { demoTokens, request } from './graphql.js';
import { RESTAURANTS } from './operations.js';
import { mountRestaurant } from './restaurant.js';

const $ = (selector) => document.querySelector(selector);

function liveIndicator(name) {
  const el = document.querySelector(`[data-live="${name}"]`);
  const labels = { idle: 'idle', connecting: 'connecting…', connected: 'live', closed: 'reconnecting…' };
  return (state) => {
    el.dataset.state = state;
    el.textContent = labels[state] ?? state;
  };
}

/** A pane whose actor can be switched: remounts its feed for the chosen one. */
function switchable(select, actors, mount) {
  let current;
  fill(select, actors.map((a) => h('option', { value: a.id }, a.name)));
  const use = (id) => {
    select.value = id;
    if (current?.id === id) return;
    current?.feed.stop();
    current = { id, feed: mount(actors.find((a) => a.id === id)) };
  };
  select.addEventListener('change', () => use(select.value));
  use(actors[0].id);
  return { use };
}

async function main() {
  const tokens = await demoTokens();
  const names = new Map([tokens.admin, ...tokens.customers, ...tokens.restaurants, ...tokens.drivers].map((a) => [a.id, a.name]));
  const customer = tokens.customers[0];
  $('[data-testid="customer-name"]').textContent = customer.name;

  const { restaurants } = await request({ kind: 'customers', id: customer.id }, RESTAURANTS);
  if (!restaurants.length) throw new Error('No restaurants: load the demo data with "npm run seed", then reload.');

  mountEventLog($('#events'), { names, setLive: liveIndicator('events') });
  const restaurantPane = switchable($('#restaurant-as'), tokens.restaurants, (restaurant) =>
    mountRestaurant($('#restaurant-orders'), { restaurant, setLive: liveIndicator('restaurant') }),
  );
  const driverPane = switchable($('#driver-as'), tokens.drivers, (driver) => mountDriver($('#driver-jobs'), { driver, setLive: liveIndicator('driver') }));

  let followed;
  mountCustomer($('#customer'), {
    customer,
    restaurants,
    setLive: liveIndicator('customer'),
    onOrder(order) {
      // Follow each new order's restaurant once, and its driver once one is assigned,
      // without fighting a choice made by hand afterwards.
      if (followed?.orderId !== order.id) {
        followed = { orderId: order.id, driver: undefined };
        if (order.restaurant?.id) restaurantPane.use(order.restaurant.id);
      }
      if (order.driver?.id && followed.driver !== order.driver.id) {
        followed.driver = order.driver.id;
        driverPane.use(order.driver.id);
      }
    },
  });
}

main().catch((err) => {
  const fatal = $('#fatal');
  fatal.textContent = `The demo could not start: ${err.message}`;
  fatal.hidden = false;
});
