// The restaurant pane: incoming orders live (restaurantOrders subscription),
// approve or decline the paid ones.
import { formatMoney, formatTime, h, itemsSummary, shortId, statusBadge } from './dom.js';
import { APPROVE_ORDER, DECLINE_ORDER, RESTAURANT_ORDERS, RESTAURANT_ORDERS_LIVE } from './operations.js';
import { createOrderFeed } from './orderFeed.js';

export function mountRestaurant(list, { restaurant, setLive }) {
  return createOrderFeed({
    list,
    actor: { kind: 'restaurants', id: restaurant.id },
    query: RESTAURANT_ORDERS,
    subscription: RESTAURANT_ORDERS_LIVE,
    field: 'restaurantOrders',
    setLive,
    empty: 'No orders yet: place one as the customer.',
    renderCard: (order, act) =>
      h(
        'li',
        { class: 'card', dataset: { orderId: order.id, status: order.status } },
        h('div', { class: 'card-head' }, h('strong', {}, `Order ${shortId(order.id)}`), statusBadge(order.status)),
        h('div', {}, itemsSummary(order.items)),
        h('div', { class: 'muted' }, `${formatMoney(order.totalCents)} · placed ${formatTime(order.createdAt)} · v${order.version}`),
        order.status === 'paid'
          ? h(
              'div',
              { class: 'actions' },
              h('button', { class: 'primary', 'data-testid': 'approve', onclick: (e) => act(e.currentTarget, APPROVE_ORDER, { orderId: order.id }) }, 'Approve'),
              h(
                'button',
                { 'data-testid': 'decline', onclick: (e) => act(e.currentTarget, DECLINE_ORDER, { orderId: order.id, reason: 'The kitchen is too busy' }) },
                'Decline',
              ),
            )
          : h('div', { class: 'muted' }, waitingFor(order.status)),
      ),
  });
}

function waitingFor(status) {
  return (
    {
      placed: 'Being validated…',
      validated: 'Waiting for the customer to pay',
      payment_failed: 'Payment failed; the customer may retry',
      approved: 'Finding a driver…',
      driver_assigned: 'Driver on the way',
      picked_up: 'Out for delivery',
    }[status] ?? ''
  );
}
