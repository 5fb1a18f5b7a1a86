// The customer's order timeline: the happy path as steps, each marked when a
// subscription push first showed the order in that status (with the local time
// it arrived), plus the failure branch the order took, if any. A step the
// order passed between two pushes is marked done without a time: the
// subscription sends current state, not every intermediate one.
import { formatTime, h, STATUS_LABELS } from './dom.js';

export const HAPPY_PATH = ['placed', 'validated', 'paid', 'approved', 'driver_assigned', 'picked_up', 'delivered'];
/** Where each failure branches off the happy path. */
const FAILURES = { rejected: 'placed', payment_failed: 'validated', declined: 'paid' };
const HINTS = {
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

export function createTimeline() {
  /** status -> { at: Date, version } for statuses a push showed. */
  const seen = new Map();
  const seenOrder = [];
  let current;
  let paymentPending = false;
  const list = h('ol', { class: 'timeline', 'data-testid': 'timeline' });

  function render() {
    const failure = current && FAILURES[current.status] ? current.status : undefined;
    const reached = new Set();
    if (current) {
      const path = failure ? HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(FAILURES[failure]) + 1) : HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(current.status) + 1);
      for (const s of path) reached.add(s);
    }
    const steps = [...HAPPY_PATH];
    if (failure) steps.splice(steps.indexOf(FAILURES[failure]) + 1, 0, failure);
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
            dataset: { status, state, ...(mark ? { seenIndex: String(seenOrder.indexOf(status)), source: mark.source } : {}) },
          },
          h('span', { class: 'dot' }),
          h('span', { class: 'label' }, STATUS_LABELS[status]),
          h('span', { class: 'when' }, mark ? `${formatTime(mark.at)} · v${mark.version}` : state === 'done' ? '—' : ''),
          hint ? h('span', { class: 'hint' }, isCurrent && current.statusReason ? current.statusReason : hint) : null,
        );
      }),
    );
  }

  render();
  return {
    element: list,
    /** A state of the order: `source` is 'push' (subscription) or 'reply' (a mutation's answer). */
    update(order, source = 'push') {
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
