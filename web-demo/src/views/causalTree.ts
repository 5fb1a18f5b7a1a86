/**
 * The causal tree component, shared by the customer's order and the
 * operations console: the API's flat lists (events with the delivery that
 * caused them, deliveries with their event) drawn as a tree,
 *
 *   order.placed
 *   └─ validate-order ✓ 35 ms
 *      └─ order.validated
 *
 * each delivery with its state: delivered (✓ and its last attempt's time),
 * running, waiting for a retry (attempt n of max), paused (its trigger is),
 * or dead, named as a failure (trigger, status, attempt). The header says
 * "settled" once nothing more will happen, "live" until then.
 */
import { h, fill } from '../dom.js';
import type { CausalTreeFieldsFragment } from '../gql/graphql.js';

type Tree = CausalTreeFieldsFragment;
type TreeEvent = Tree['events'][number];
type TreeDelivery = Tree['deliveries'][number];

const MARKS: Record<TreeDelivery['state'], string> = { delivered: '✓', dead: '✗', running: '…', pending: '⋯', paused: '⏸' };

/** One line of words for a delivery's state: what a reader needs, failures named. */
export function describeDelivery(d: TreeDelivery): string {
  const last = d.attempts.at(-1);
  const took = last ? `${last.durationMs} ms` : '';
  const status = d.lastHttpStatus ? `HTTP ${d.lastHttpStatus}` : last && last.httpStatus === null && last.outcome !== 'delivered' ? 'no response' : '';
  switch (d.state) {
    case 'delivered':
      return [took, d.attemptCount > 1 ? `after ${d.attemptCount} attempts` : ''].filter(Boolean).join(' · ');
    case 'dead':
      return `dead after attempt ${d.attemptCount} of ${d.maxAttempts}${status ? ` (${status})` : ''}`;
    case 'running':
      return `running attempt ${d.attemptCount + 1}`;
    case 'paused':
      return `paused${d.pausedReason ? ` (${d.pausedReason})` : ''}`;
    case 'pending':
      return d.attemptCount ? `attempt ${d.attemptCount} failed${status ? ` (${status})` : ''}: retrying (${d.attemptCount + 1} of ${d.maxAttempts})` : 'queued';
  }
}

export interface CausalTreeView {
  element: HTMLElement;
  update(tree: Tree): void;
  /** Loading, or a refusal (the tree could not be read). */
  message(state: 'loading' | 'error', text: string): void;
  clear(): void;
}

export function createCausalTree({ label = 'Causal tree', onDelivery }: { label?: string; onDelivery?: (deliveryId: string) => void } = {}): CausalTreeView {
  const status = h('span', { class: 'tree-status', 'data-testid': 'tree-status', role: 'status' });
  const body = h('div', { class: 'tree-body' });
  const element = h('section', { class: 'causal-tree', 'data-testid': 'causal-tree', 'aria-label': label }, h('header', {}, h('h3', {}, label), status), body);

  function eventNode(event: TreeEvent, byEvent: Map<string, TreeDelivery[]>, byDelivery: Map<string, TreeEvent[]>): HTMLElement {
    const deliveries = byEvent.get(event.id) ?? [];
    return h(
      'li',
      { role: 'treeitem', 'aria-expanded': deliveries.length ? 'true' : null, class: 'tree-event', dataset: { eventId: event.id, eventType: event.type } },
      h('code', { class: 'tree-type' }, event.type),
      deliveries.length
        ? h(
            'ul',
            { role: 'group' },
            deliveries.map((d) => {
              const children = byDelivery.get(d.id) ?? [];
              const words = describeDelivery(d);
              const name = onDelivery
                ? h('button', { type: 'button', class: 'link', 'aria-label': `Attempts of ${d.trigger}`, onclick: () => onDelivery(d.id) }, d.trigger)
                : h('strong', {}, d.trigger);
              return h(
                'li',
                { role: 'treeitem', class: `tree-delivery state-${d.state}`, dataset: { deliveryId: d.id, trigger: d.trigger, state: d.state }, 'aria-expanded': children.length ? 'true' : null },
                h('span', { class: 'tree-line' }, name, ' ', h('span', { class: 'mark', 'aria-label': d.state }, MARKS[d.state]), words ? h('span', { class: 'tree-words' }, ` ${words}`) : null),
                children.length ? h('ul', { role: 'group' }, children.map((e) => eventNode(e, byEvent, byDelivery))) : null,
              );
            }),
          )
        : null,
    );
  }

  return {
    element,
    update(tree) {
      const byEvent = new Map<string, TreeDelivery[]>();
      for (const d of tree.deliveries) byEvent.set(d.eventId, [...(byEvent.get(d.eventId) ?? []), d]);
      const byDelivery = new Map<string, TreeEvent[]>();
      for (const e of tree.events) if (e.causedByDelivery) byDelivery.set(e.causedByDelivery, [...(byDelivery.get(e.causedByDelivery) ?? []), e]);
      const root = tree.events.find((e) => e.id === tree.rootId) ?? tree.events[0];
      const dead = tree.deliveries.filter((d) => d.state === 'dead');
      element.dataset.settled = String(tree.settled);
      element.dataset.failed = String(tree.failed);
      element.dataset.rootId = tree.rootId;
      fill(
        status,
        tree.settled
          ? h('span', { class: `badge ${tree.failed ? 'bad' : 'good'}` }, tree.failed ? `settled · ${dead.length} failed` : 'settled')
          : h('span', { class: 'live', dataset: { state: 'connected' } }, `live · ${tree.pending} to go`),
      );
      fill(
        body,
        root ? h('ul', { role: 'tree', 'aria-label': `What ${root.type} caused` }, eventNode(root, byEvent, byDelivery)) : h('p', { class: 'placeholder empty' }, 'No such event.'),
        dead.length
          ? h(
              'ul',
              { class: 'tree-failures', 'aria-label': 'Failures' },
              dead.map((d) => h('li', { class: 'error', dataset: { deliveryId: d.id } }, `${d.trigger}: ${describeDelivery(d)}${d.lastError ? ` — ${d.lastError}` : ''}`)),
            )
          : null,
        tree.truncated ? h('p', { class: 'muted' }, 'The tree is larger than the API returns; the rest is left out.') : null,
      );
    },
    message(state, text) {
      delete element.dataset.settled;
      fill(status);
      fill(body, h('p', { class: `placeholder ${state}`, dataset: { state } }, text));
    },
    clear() {
      delete element.dataset.settled;
      fill(status);
      fill(body);
    },
  };
}
