/**
 * The restaurant pane: incoming orders live (restaurantOrders subscription),
 * approve or decline the paid ones.
 */
import type { LiveState } from '../client.js';
import { formatMoney, formatTime, h, itemsSummary, shortId, statusBadge } from '../dom.js';
import type { OrderStatus } from '../gql/graphql.js';
import { APPROVE_ORDER, DECLINE_ORDER, RESTAURANT_ORDERS, RESTAURANT_ORDERS_LIVE } from '../operations.js';
import type { DemoActor } from '../tokens.js';
import { createOrderFeed, type OrderFeed } from './orderFeed.js';

const WAITING_FOR: Partial<Record<OrderStatus, string>> = {
  placed: 'Being validated…',
  validated: 'Waiting for the customer to pay',
  payment_failed: 'Payment failed; the customer may retry',
  approved: 'Finding a driver…',
  driver_assigned: 'Driver on the way',
  picked_up: 'Out for delivery',
  declined: 'Declined; the customer is refunded',
  cancelled: 'Cancelled by the customer',
  refunding: 'Refunding the customer',
  refunded: 'Refunded to the customer',
};

export function mountRestaurant(list: HTMLElement, { restaurant, setLive }: { restaurant: DemoActor; setLive(state: LiveState): void }): OrderFeed {
  return createOrderFeed({
    list,
    actor: { kind: 'restaurants', id: restaurant.id },
    query: RESTAURANT_ORDERS,
    subscription: RESTAURANT_ORDERS_LIVE,
    connection: (data) => data.restaurantOrders,
    setLive,
    empty: 'No orders yet: place one as the customer.',
    renderCard: (order, act) =>
      h(
        'li',
        { class: 'card', dataset: { orderId: order.id, status: order.status }, 'aria-label': `Order ${shortId(order.id)}, ${order.status}` },
        h('div', { class: 'card-head' }, h('strong', {}, `Order ${shortId(order.id)}`), statusBadge(order.status)),
        h('div', {}, itemsSummary(order.items)),
        h('div', { class: 'muted' }, `${formatMoney(order.totalCents)} · placed ${formatTime(order.createdAt)} · v${order.version}`),
        order.status === 'paid'
          ? h(
              'div',
              { class: 'actions' },
              h(
                'button',
                { type: 'button', class: 'primary', 'data-testid': 'approve', onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, APPROVE_ORDER, { orderId: order.id }) },
                'Approve',
              ),
              h(
                'button',
                {
                  type: 'button',
                  'data-testid': 'decline',
                  onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, DECLINE_ORDER, { orderId: order.id, reason: 'The kitchen is too busy' }),
                },
                'Decline',
              ),
            )
          : h('div', { class: 'muted' }, WAITING_FOR[order.status] ?? ''),
      ),
  });
}
