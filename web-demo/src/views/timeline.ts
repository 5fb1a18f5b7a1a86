/**
 * The customer's order timeline: the happy path as steps, each marked when a
 * subscription push first showed the order in that status (with the local
 * time it arrived), plus the failure branch the order took, if any. A step
 * the order passed between two pushes is marked done without a time: the
 * subscription sends current state, not every intermediate one. A cancelled
 * refunding or refunded order branches off the last happy step it was seen
 * in (a refund for want of a driver off `approved`); refunding, the refund
 * on its way, is the same branch as refunded, one push earlier.
 */
import { formatTime, h, STATUS_LABELS } from '../dom.js';
import type { OrderStatus } from '../gql/graphql.js';

export const HAPPY_PATH: readonly OrderStatus[] = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];
/** Where each failure branches off the happy path (cancelled, refunding and refunded: see branchOf). */
const FAILURES: Partial<Record<OrderStatus, OrderStatus>> = {
  rejected: 'placed',
  payment_failed: 'validated',
  declined: 'paid',
  cancelled: 'placed',
  refunding: 'paid',
  refunded: 'paid',
};
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
  declined: 'the restaurant declined: refunding',
  cancelled: 'you cancelled',
  refunding: 'your payment is being refunded',
  refunded: 'your payment was refunded',
};

/** A refund's reason (its statusReason) in the customer's words. */
const REFUND_HINTS: Record<string, string> = {
  declined: 'the restaurant declined: your payment was refunded',
  restaurant_timeout: 'the restaurant did not answer in time: your payment was refunded',
  no_driver: 'no driver was free: your payment was refunded',
  customer_cancel: 'you cancelled: your payment was refunded',
};

/** A refund on its way, by its reason. */
const REFUNDING_HINTS: Record<string, string> = {
  declined: 'the restaurant declined: refunding your payment',
  restaurant_timeout: 'the restaurant did not answer in time: refunding your payment',
  no_driver: 'no driver was free: refunding your payment',
  customer_cancel: 'you cancelled: refunding your payment',
};

/** The current step's hint: a refund's reason in words, another failure's reason as given, else the step's own. */
function hintFor(order: TimelineOrder, fallback: string): string {
  if (order.status === 'refunded') return REFUND_HINTS[order.statusReason ?? ''] ?? fallback;
  if (order.status === 'refunding') return REFUNDING_HINTS[order.statusReason ?? ''] ?? fallback;
  if (order.status === 'cancelled') return HINTS.cancelled;
  return order.statusReason ?? fallback;
}

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

  /** The happy step a failure branched off: for a cancel or a refund, the furthest one seen (at least the default). */
  function branchOf(failure: OrderStatus): OrderStatus {
    const fallback = current?.statusReason === 'no_driver' ? 'approved' : FAILURES[failure]!;
    if (failure !== 'cancelled' && failure !== 'refunding' && failure !== 'refunded') return fallback;
    const furthest = Math.max(HAPPY_PATH.indexOf(fallback), ...seenOrder.map((s) => HAPPY_PATH.indexOf(s)));
    return HAPPY_PATH[furthest]!;
  }

  function render(): void {
    const failure = current && FAILURES[current.status] ? current.status : undefined;
    const branch = failure && branchOf(failure);
    const reached = new Set<OrderStatus>();
    if (current) {
      const until = branch ?? current.status;
      for (const s of HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(until) + 1)) reached.add(s);
    }
    const steps = [...HAPPY_PATH];
    if (failure && branch) steps.splice(steps.indexOf(branch) + 1, 0, failure);
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
          hint ? h('span', { class: 'hint' }, isCurrent ? hintFor(current!, hint) : hint) : null,
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
