// The customer pane: pick a restaurant, build an order from its menu, place
// it, pay, and watch the order's timeline over the `order(id)` subscription.
import { fill, flashError, formatMoney, h, itemsSummary, shortId } from './dom.js';
import { liveClient, request } from './graphql.js';
import { MY_LATEST_ORDER, nodes, ORDER_LIVE, PAY_ORDER, PLACE_ORDER } from './operations.js';
import { createTimeline } from './timeline.js';

const TERMINAL = new Set(['delivered', 'rejected', 'declined']);

/**
 * @param root the pane's body element
 * @param opts { customer: {id,name}, restaurants: [...], setLive(state), onOrder(order) }
 */
export function mountCustomer(root, { customer, restaurants, setLive, onOrder }) {
  const actor = { kind: 'customers', id: customer.id };
  const live = liveClient(actor, setLive);
  const timeline = createTimeline();
  const quantities = new Map();
  let restaurant = restaurants[0];
  let order;
  let unsubscribe;
  /** Set by payOrder's reply; cleared when the order moves on. */
  let paymentPending = false;

  const restaurantSelect = h(
    'select',
    { 'data-testid': 'restaurant-select', 'aria-label': 'Restaurant', onchange: () => chooseRestaurant(restaurantSelect.value) },
    restaurants.map((r) => h('option', { value: r.id }, `${r.name} · ${r.cuisine}`)),
  );
  const menu = h('ul', { class: 'menu', 'data-testid': 'menu' });
  const address = h('input', { type: 'text', value: '1 Demo Street', 'aria-label': 'Delivery address', 'data-testid': 'address' });
  const total = h('span', { class: 'total', 'data-testid': 'total' });
  const placeButton = h('button', { class: 'primary', 'data-testid': 'place-order', onclick: () => void place() }, 'Place order');
  const builder = h(
    'section',
    { class: 'builder' },
    h('label', { class: 'field' }, h('span', {}, 'Restaurant'), restaurantSelect),
    menu,
    h('label', { class: 'field' }, h('span', {}, 'Deliver to'), address),
    h('div', { class: 'row' }, total, placeButton),
  );
  const orderHead = h('div', { class: 'order-head' });
  const actions = h('div', { class: 'actions' });
  const orderCard = h('section', { class: 'order-card', hidden: true, 'data-testid': 'current-order' }, orderHead, timeline.element, actions);
  // The order being watched comes first; the builder (below) is for the next one.
  fill(root, orderCard, builder);

  function chooseRestaurant(id) {
    restaurant = restaurants.find((r) => r.id === id) ?? restaurants[0];
    quantities.clear();
    renderMenu();
  }

  function renderMenu() {
    fill(
      menu,
      (restaurant?.menu ?? []).map((item) => {
        const qty = quantities.get(item.id) ?? 0;
        const change = (delta) => {
          quantities.set(item.id, Math.max(0, Math.min(20, qty + delta)));
          renderMenu();
        };
        return h(
          'li',
          { class: `menu-item${item.available ? '' : ' unavailable'}`, dataset: { name: item.name } },
          h('div', { class: 'item-text' }, h('strong', {}, item.name), h('small', {}, item.available ? item.description : 'sold out')),
          h('span', { class: 'price' }, formatMoney(item.priceCents)),
          h(
            'span',
            { class: 'stepper' },
            h('button', { 'aria-label': `Remove ${item.name}`, 'data-testid': 'qty-minus', disabled: qty === 0, onclick: () => change(-1) }, '−'),
            h('output', { 'data-testid': 'qty' }, String(qty)),
            h('button', { 'aria-label': `Add ${item.name}`, 'data-testid': 'qty-plus', disabled: !item.available, onclick: () => change(1) }, '+'),
          ),
        );
      }),
    );
    const cents = (restaurant?.menu ?? []).reduce((sum, item) => sum + item.priceCents * (quantities.get(item.id) ?? 0), 0);
    total.textContent = cents ? formatMoney(cents) : 'Add something';
    placeButton.disabled = cents === 0;
  }

  async function place() {
    const items = [...quantities].filter(([, q]) => q > 0).map(([menuItemId, quantity]) => ({ menuItemId, quantity }));
    placeButton.disabled = true;
    try {
      const data = await request(actor, PLACE_ORDER, {
        input: { restaurantId: restaurant.id, items, deliveryAddress: address.value.trim() || '1 Demo Street' },
      });
      quantities.clear();
      renderMenu();
      watch(data.placeOrder, 'reply');
    } catch (err) {
      flashError(root, err);
      placeButton.disabled = false;
    }
  }

  /** Show this order and follow it live. */
  function watch(placed, source) {
    unsubscribe?.();
    timeline.reset();
    order = placed;
    show(placed, source);
    unsubscribe = live.subscribe(ORDER_LIVE, { id: placed.id }, { next: (data) => data.order && show(data.order, 'push'), error: (err) => flashError(root, err) });
  }

  function show(next, source) {
    if (order && next.version < order.version) return;
    if (order?.status !== next.status) paymentPending = false;
    order = { ...order, ...next };
    timeline.update(order, source);
    builder.hidden = !TERMINAL.has(order.status);
    orderCard.hidden = false;
    orderCard.dataset.orderId = order.id;
    orderCard.dataset.status = order.status;
    fill(
      orderHead,
      h('strong', {}, `Order ${shortId(order.id)}`),
      h('span', {}, ` · ${order.restaurant?.name ?? ''} · ${formatMoney(order.totalCents)}`),
      h('div', { class: 'muted' }, itemsSummary(order.items)),
    );
    renderActions();
    onOrder(order);
  }

  function renderActions() {
    const canPay = order.status === 'validated' || order.status === 'payment_failed';
    const label = paymentPending ? 'Payment pending…' : `${order.status === 'payment_failed' ? 'Pay again' : 'Pay'} ${formatMoney(order.totalCents)}`;
    fill(
      actions,
      canPay && h('button', { class: 'primary', 'data-testid': 'pay', disabled: paymentPending, onclick: (e) => void pay(e.currentTarget) }, label),
      TERMINAL.has(order.status) && h('span', { class: 'muted' }, 'Order another below.'),
    );
  }

  async function pay(button) {
    button.disabled = true;
    const status = order.status;
    try {
      await request(actor, PAY_ORDER, { orderId: order.id });
      // A fast charge handler may have moved the order on before this reply.
      if (order.status !== status) return;
      markPaymentPending();
    } catch (err) {
      flashError(root, err);
      // Paid meanwhile from elsewhere (another tab): that payment is the one to wait for.
      if (err.code === 'CONFLICT' && err.extensions.paymentId) markPaymentPending();
      else button.disabled = false;
    }
  }

  function markPaymentPending() {
    paymentPending = true;
    timeline.setPaymentPending(true);
    renderActions();
  }

  chooseRestaurant(restaurant?.id);
  // Pick up where a reload left off: the latest order, if it is still going.
  request(actor, MY_LATEST_ORDER)
    .then((data) => {
      const latest = nodes(data.myOrders)[0];
      if (latest && !TERMINAL.has(latest.status)) watch(latest, 'reply');
    })
    .catch((err) => flashError(root, err));

  return {
    get restaurantId() {
      return restaurant?.id;
    },
  };
}
