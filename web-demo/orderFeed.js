// A live list of orders for the restaurant and driver panes: loaded once by a
// query, then kept current by a subscription that pushes each changed order.
// A push older than what is shown (lower version) is ignored, so a late
// delivery can never move an order backwards on screen. The query runs each
// time the socket is (re)connected, so what changed while no push could arrive
// is caught up (an overlap with pushes is harmless, by version), and after a
// refused mutation, since what was shown was stale. It never runs on a timer.
import { fill, flashError, h } from './dom.js';
import { liveClient, request } from './graphql.js';
import { nodes } from './operations.js';

const MAX_SHOWN = 30;

/**
 * @param opts { list, actor, query, field, subscription, setLive, renderCard(order, act) , empty }
 *   `act(mutation, variables)` runs a mutation as the actor and reports errors in the list.
 */
export function createOrderFeed({ list, actor, query, field, subscription, setLive, renderCard, empty }) {
  const orders = new Map();
  const live = liveClient(actor, (state) => {
    setLive(state);
    if (state === 'connected') load();
  });
  // After stop, answers still in flight must not draw into a list another feed now owns.
  let stopped = false;

  const act = async (button, mutation, variables) => {
    button.disabled = true;
    try {
      const data = await request(actor, mutation, variables);
      // The answer is the new state: show it now; the push confirms it.
      const changed = Object.values(data)[0];
      if (changed?.id) upsert(changed);
    } catch (err) {
      if (stopped) return;
      flashError(list, err);
      button.disabled = false;
      if (err.code === 'ILLEGAL_TRANSITION' || err.code === 'CONFLICT') load();
    }
  };

  function load() {
    request(actor, query)
      .then((data) => nodes(data[field]).forEach(upsert))
      .catch((err) => !stopped && flashError(list, err));
  }

  function upsert(order) {
    if (stopped) return;
    const shown = orders.get(order.id);
    if (shown && order.version < shown.version) return;
    orders.set(order.id, { ...shown, ...order });
    render();
  }

  function render() {
    const newest = [...orders.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).slice(0, MAX_SHOWN);
    if (orders.size > MAX_SHOWN) for (const [id] of orders) if (!newest.some((o) => o.id === id)) orders.delete(id);
    fill(list, newest.length ? newest.map((o) => renderCard(o, act)) : h('li', { class: 'empty' }, empty));
  }

  render();
  const unsubscribe = live.subscribe(subscription, {}, {
    next: (data) => {
      const pushed = data[field];
      for (const order of Array.isArray(pushed) ? pushed : [pushed]) if (order) upsert(order);
    },
    error: (err) => flashError(list, err),
  });

  return {
    stop() {
      stopped = true;
      unsubscribe();
      live.dispose();
    },
  };
}
