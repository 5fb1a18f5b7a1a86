/**
 * The customer pane: pick a restaurant, build an order from its menu, place
 * it, pay, and watch the order's timeline over the `order(id)` subscription,
 * which resumes after a reconnect with `afterVersion` (the newest version on
 * screen), so only a newer state is sent again.
 *
 * Under the timeline, the causal tree of the order's `order.placed` event
 * (the first id of placeOrder's `extensions.threefactor.events`): what the
 * order set off, live over the `causalTree` subscription until it settles,
 * failures named. The event id is kept in sessionStorage per order, so a
 * reload shows the tree again.
 */
import { live, run, runWithExtensions, type ActorClient, type GraphQLRequestError, type LiveSubscription } from '../client.js';
import { fill, flashError, formatMoney, h, itemsSummary, messageOf, shortId } from '../dom.js';
import type { OrderFieldsFragment, OrderStatus, RestaurantsQuery } from '../gql/graphql.js';
import { CANCEL_ORDER, CAUSAL_TREE_LIVE, MY_LATEST_ORDER, ORDER_LIVE, PAY_ORDER, PLACE_ORDER } from '../operations.js';
import { createCausalTree } from './causalTree.js';
import { createTimeline, type Source } from './timeline.js';

const placedEventKey = (orderId: string) => `threefactor.placedEvent.${orderId}`;

// Declined is terminal for the customer's next order; its refund still comes in live.
const TERMINAL = new Set<OrderStatus>(['delivered', 'rejected', 'declined', 'cancelled', 'refunding', 'refunded']);
/** Before the restaurant approved: the customer may still cancel (a paid order is then refunded). */
const CANCELLABLE = new Set<OrderStatus>(['placed', 'validated', 'payment_failed', 'paid']);

type Restaurant = RestaurantsQuery['restaurants'][number];

export interface CustomerOptions {
  /** The customer's client (its live state already shown in the pane's header). */
  actor: ActorClient;
  restaurants: Restaurant[];
  onOrder(order: OrderFieldsFragment): void;
}

export function mountCustomer(root: HTMLElement, { actor, restaurants, onOrder }: CustomerOptions): void {
  const timeline = createTimeline();
  const quantities = new Map<string, number>();
  let restaurant = restaurants[0];
  let order: OrderFieldsFragment | undefined;
  let subscription: LiveSubscription | undefined;
  /** Set by payOrder's reply; cleared when the order moves on. */
  let paymentPending = false;

  const restaurantSelect = h(
    'select',
    { 'data-testid': 'restaurant-select', id: 'restaurant-select', onchange: () => chooseRestaurant(restaurantSelect.value) },
    restaurants.map((r) => h('option', { value: r.id }, `${r.name} · ${r.cuisine}`)),
  );
  const menu = h('ul', { class: 'menu', 'data-testid': 'menu', 'aria-label': 'Menu' });
  const address = h('input', { type: 'text', id: 'address', value: '1 Demo Street', autocomplete: 'street-address', 'data-testid': 'address' });
  const total = h('span', { class: 'total', 'data-testid': 'total', 'aria-live': 'polite' });
  const placeButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'place-order' }, 'Place order');
  const builder = h(
    'form',
    { class: 'builder', 'aria-label': 'New order', onsubmit: (e: Event) => (e.preventDefault(), void place()) },
    h('label', { class: 'field', for: 'restaurant-select' }, h('span', {}, 'Restaurant'), restaurantSelect),
    menu,
    h('label', { class: 'field', for: 'address' }, h('span', {}, 'Deliver to'), address),
    h('div', { class: 'row' }, total, placeButton),
  );
  const orderHead = h('div', { class: 'order-head' });
  const actions = h('div', { class: 'actions' });
  const tree = createCausalTree({ label: 'What your order set off' });
  let treeSubscription: LiveSubscription | undefined;
  const orderCard = h('section', { class: 'order-card', hidden: true, 'data-testid': 'current-order', 'aria-label': 'Your order' }, orderHead, timeline.element, actions, tree.element);
  // The order being watched comes first; the builder (below) is for the next one.
  fill(root, orderCard, builder);

  function chooseRestaurant(id: string | undefined): void {
    restaurant = restaurants.find((r) => r.id === id) ?? restaurants[0];
    quantities.clear();
    renderMenu();
  }

  function renderMenu(): void {
    const items = restaurant?.menu ?? [];
    fill(
      menu,
      items.map((item) => {
        const qty = quantities.get(item.id) ?? 0;
        const change = (delta: number) => {
          quantities.set(item.id, Math.max(0, Math.min(20, qty + delta)));
          renderMenu();
          // Re-rendered: keep the keyboard where it was.
          menu.querySelector<HTMLButtonElement>(`[data-name="${CSS.escape(item.name)}"] [data-testid="${delta > 0 ? 'qty-plus' : 'qty-minus'}"]`)?.focus();
        };
        return h(
          'li',
          { class: `menu-item${item.available ? '' : ' unavailable'}`, dataset: { name: item.name } },
          h('div', { class: 'item-text' }, h('strong', {}, item.name), h('small', {}, item.available ? item.description : 'sold out')),
          h('span', { class: 'price' }, formatMoney(item.priceCents)),
          h(
            'span',
            { class: 'stepper' },
            h('button', { type: 'button', 'aria-label': `Remove ${item.name}`, 'data-testid': 'qty-minus', disabled: qty === 0, onclick: () => change(-1) }, '−'),
            h('output', { 'data-testid': 'qty', 'aria-label': `${item.name} quantity` }, String(qty)),
            h('button', { type: 'button', 'aria-label': `Add ${item.name}`, 'data-testid': 'qty-plus', disabled: !item.available, onclick: () => change(1) }, '+'),
          ),
        );
      }),
    );
    const cents = items.reduce((sum, item) => sum + item.priceCents * (quantities.get(item.id) ?? 0), 0);
    total.textContent = cents ? formatMoney(cents) : 'Add something';
    placeButton.disabled = cents === 0;
  }

  async function place(): Promise<void> {
    if (!restaurant) return;
    const items = [...quantities].filter(([, q]) => q > 0).map(([menuItemId, quantity]) => ({ menuItemId, quantity }));
    placeButton.disabled = true;
    try {
      const { data, written } = await runWithExtensions(actor, PLACE_ORDER, {
        input: { restaurantId: restaurant.id, items, deliveryAddress: address.value.trim() || '1 Demo Street' },
      });
      const placedEvent = written?.events[0];
      if (placedEvent) sessionStorage.setItem(placedEventKey(data.placeOrder.id), placedEvent);
      quantities.clear();
      renderMenu();
      watch(data.placeOrder, 'reply');
    } catch (err) {
      flashError(root, err);
      placeButton.disabled = false;
    }
  }

  /** Show this order and follow it live, from the version shown on. */
  function watch(placed: OrderFieldsFragment, source: Source): void {
    subscription?.stop();
    timeline.reset();
    order = undefined;
    show(placed, source);
    subscription = live(actor, ORDER_LIVE, () => ({ id: placed.id, afterVersion: order?.version ?? null }), {
      next: (data) => show(data.order, 'push'),
      error: (err) => flashError(root, err),
    });
    watchTree(placed.id);
  }

  /** The order.placed event's tree, live until it settles (the server then completes the subscription). */
  function watchTree(orderId: string): void {
    treeSubscription?.stop();
    treeSubscription = undefined;
    const eventId = sessionStorage.getItem(placedEventKey(orderId));
    tree.element.hidden = !eventId;
    if (!eventId) return tree.clear();
    tree.message('loading', 'Loading what the order set off…');
    const subscription = live(actor, CAUSAL_TREE_LIVE, () => ({ eventId }), {
      next: (data) => {
        tree.update(data.causalTree);
        if (data.causalTree.settled) subscription.stop();
      },
      error: (err) => tree.message('error', `The causal tree could not load: ${messageOf(err)}`),
    });
    treeSubscription = subscription;
  }

  function show(next: OrderFieldsFragment, source: Source): void {
    if (order && next.version < order.version) return;
    if (order?.status !== next.status) paymentPending = false;
    order = next;
    timeline.update(order, source);
    builder.hidden = !TERMINAL.has(order.status);
    orderCard.hidden = false;
    orderCard.dataset.orderId = order.id;
    orderCard.dataset.status = order.status;
    fill(
      orderHead,
      h('strong', {}, `Order ${shortId(order.id)}`),
      h('span', {}, ` · ${order.restaurant.name} · ${formatMoney(order.totalCents)}`),
      h('div', { class: 'muted' }, itemsSummary(order.items)),
    );
    renderActions();
    onOrder(order);
  }

  function renderActions(): void {
    if (!order) return;
    const canPay = order.status === 'validated' || order.status === 'payment_failed';
    const label = paymentPending ? 'Payment pending…' : `${order.status === 'payment_failed' ? 'Pay again' : 'Pay'} ${formatMoney(order.totalCents)}`;
    fill(
      actions,
      canPay && h('button', { type: 'button', class: 'primary', 'data-testid': 'pay', disabled: paymentPending, onclick: (e: Event) => void pay(e.currentTarget as HTMLButtonElement) }, label),
      CANCELLABLE.has(order.status) &&
        h('button', { type: 'button', 'data-testid': 'cancel', onclick: (e: Event) => void cancel(e.currentTarget as HTMLButtonElement) }, order.status === 'paid' ? 'Cancel (refund)' : 'Cancel'),
      TERMINAL.has(order.status) && h('span', { class: 'muted' }, 'Order another below.'),
    );
  }

  async function pay(button: HTMLButtonElement): Promise<void> {
    if (!order) return;
    button.disabled = true;
    const status = order.status;
    try {
      await run(actor, PAY_ORDER, { orderId: order.id });
      // A fast charge handler may have moved the order on before this reply.
      if (order.status !== status) return;
      markPaymentPending();
    } catch (err) {
      flashError(root, err);
      // Paid meanwhile from elsewhere (another tab): that payment is the one to wait for.
      const refusal = err as Partial<GraphQLRequestError>;
      if (refusal.code === 'CONFLICT' && refusal.extensions?.paymentId) markPaymentPending();
      else button.disabled = false;
    }
  }

  async function cancel(button: HTMLButtonElement): Promise<void> {
    if (!order) return;
    button.disabled = true;
    try {
      show((await run(actor, CANCEL_ORDER, { orderId: order.id })).cancelOrder, 'reply');
    } catch (err) {
      // Approved meanwhile (ILLEGAL_TRANSITION): the push shows it; the button goes with the next render.
      flashError(root, err);
      button.disabled = false;
    }
  }

  function markPaymentPending(): void {
    paymentPending = true;
    timeline.setPaymentPending(true);
    renderActions();
  }

  chooseRestaurant(restaurant?.id);
  // Pick up where a reload left off: the latest order, if it is still going.
  run(actor, MY_LATEST_ORDER, {})
    .then((data) => {
      const latest = data.myOrders.edges[0]?.node;
      if (latest && !TERMINAL.has(latest.status)) watch(latest, 'reply');
    })
    .catch((err: unknown) => flashError(root, err));
}
