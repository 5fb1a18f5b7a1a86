/**
 * The customer's order timeline: the happy path as steps, each marked when a
 * subscription push first showed the order in that status (with the local
 * time it arrived), plus the failure branch the order took, if any. A step
 * the order passed between two pushes is marked done without a time: the
 * subscription sends current state, not every intermediate one.
 */
import { formatTime, h, STATUS_LABELS } from '../dom.js';
import type { OrderStatus } from '../gql/graphql.js';

export const HAPPY_PATH: readonly OrderStatus[] = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];
/** Where each failure branches off the happy path. */
const FAILURES: Partial<Record<OrderStatus, OrderStatus>> = { rejected: 'placed', payment_failed: 'validated', declined: 'paid' };
const HINTS: Record<OrderStatus, string> = {
  placed: 'validate-order handler checks it',
  validated: 'waiting for your payment',
  paid: 'waiting for the restaurant',
  approved: 'assign-driver handler finds a driver',
  driver_assigned: 'driver on the way to the restaurant',
  picked_up: 'on its way to you',
  delivered: 'enjoy!',
  rejected: 'the order could not be validated',
  payment_failed: 'pay again to retry',
  declined: 'the restaurant declined',
};

export type Source = 'push' | 'reply';

export interface TimelineOrder {
  status: OrderStatus;
  version: number;
  statusReason?: string | null;
}

export interface Timeline {
  element: HTMLOListElement;
  update(order: TimelineOrder, source: Source): void;
  setPaymentPending(value: boolean): void;
  reset(): void;
}

export function createTimeline(): Timeline {
  const seen = new Map<OrderStatus, { at: Date; version: number; source: Source }>();
  const seenOrder: OrderStatus[] = [];
  let current: TimelineOrder | undefined;
  let paymentPending = false;
  const list = h('ol', { class: 'timeline', 'data-testid': 'timeline', 'aria-label': 'Order progress' });

  function render(): void {
    const failure = current && FAILURES[current.status] ? current.status : undefined;
    const reached = new Set<OrderStatus>();
    if (current) {
      const until = failure ? FAILURES[failure]! : current.status;
      for (const s of HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(until) + 1)) reached.add(s);
    }
    const steps = [...HAPPY_PATH];
    if (failure) steps.splice(steps.indexOf(FAILURES[failure]!) + 1, 0, failure);
    list.replaceChildren(
      ...steps.map((status) => {
        const isCurrent = current?.status === status;
        const state = isCurrent ? 'current' : reached.has(status) ? 'done' : failure ? 'skipped' : 'pending';
        const mark = seen.get(status);
        const hint = isCurrent ? (status === 'validated' && paymentPending ? 'payment requested: charge-payment handler runs' : HINTS[status]) : undefined;
        return h(
          'li',
          {
            class: `step ${state}${failure === status ? ' failed' : ''}`,
            ...(isCurrent ? { 'aria-current': 'step' } : {}),
            dataset: { status, state, ...(mark ? { seenIndex: String(seenOrder.indexOf(status)), source: mark.source } : {}) },
          },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h('span', { class: 'label' }, STATUS_LABELS[status]),
          h('span', { class: 'when' }, mark ? `${formatTime(mark.at)} · v${mark.version}` : state === 'done' ? '—' : ''),
          hint ? h('span', { class: 'hint' }, isCurrent && current?.statusReason ? current.statusReason : hint) : null,
        );
      }),
    );
  }

  render();
  return {
    element: list,
    update(order, source) {
      if (current && order.version < current.version) return;
      if (!current || order.status !== current.status) paymentPending = false;
      current = order;
      if (!seen.has(order.status)) {
        seen.set(order.status, { at: new Date(), version: order.version, source });
        seenOrder.push(order.status);
      }
      render();
    },
    setPaymentPending(value) {
      paymentPending = value;
      render();
    },
    reset() {
      seen.clear();
      seenOrder.length = 0;
      current = undefined;
      paymentPending = false;
      render();
    },
  };
}
