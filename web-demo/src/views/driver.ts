/**
 * The driver pane: jobs assigned to this driver, live (driverJobs
 * subscription); pick up, then deliver.
 */
import type { LiveState } from '../client.js';
import { formatMoney, h, itemsSummary, shortId, statusBadge } from '../dom.js';
import { DELIVER_ORDER, DRIVER_JOBS, DRIVER_JOBS_LIVE, PICK_UP_ORDER } from '../operations.js';
import type { DemoActor } from '../tokens.js';
import { createOrderFeed, type OrderFeed } from './orderFeed.js';

export function mountDriver(list: HTMLElement, { driver, setLive }: { driver: DemoActor; setLive(state: LiveState): void }): OrderFeed {
  return createOrderFeed({
    list,
    actor: { kind: 'drivers', id: driver.id },
    query: DRIVER_JOBS,
    subscription: DRIVER_JOBS_LIVE,
    connection: (data) => data.driverJobs,
    setLive,
    empty: 'No jobs yet: the assign-driver handler gives one after a restaurant approves.',
    renderCard: (order, act) =>
      h(
        'li',
        { class: 'card', dataset: { orderId: order.id, status: order.status }, 'aria-label': `Order ${shortId(order.id)}, ${order.status}` },
        h('div', { class: 'card-head' }, h('strong', {}, `Order ${shortId(order.id)}`), statusBadge(order.status)),
        h('div', {}, `From ${order.restaurant.name} to ${order.deliveryAddress}`),
        h('div', { class: 'muted' }, `${itemsSummary(order.items)} · ${formatMoney(order.totalCents)}`),
        order.status === 'driver_assigned' &&
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', class: 'primary', 'data-testid': 'pick-up', onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, PICK_UP_ORDER, { orderId: order.id }) }, 'Picked up'),
          ),
        order.status === 'picked_up' &&
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', class: 'primary', 'data-testid': 'deliver', onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, DELIVER_ORDER, { orderId: order.id }) }, 'Delivered'),
          ),
      ),
  });
}
