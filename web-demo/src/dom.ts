/**
 * DOM and formatting helpers for the demo's views. Text always goes in as
 * text nodes, never as HTML, so nothing a server or user sends can inject
 * markup.
 */
import type { OrderStatus } from './gql/graphql.js';

type Child = Node | string | false | null | undefined | readonly Child[];
type Props = Record<string, string | number | boolean | null | undefined | EventListener | Record<string, string>>;

function children(list: readonly Child[]): Array<Node | string> {
  return list.flat(Infinity as 1).filter((c): c is Node | string => c !== undefined && c !== null && c !== false) as Array<Node | string>;
}

/** h('button', { class: 'x', onclick }, 'label', child) -> element */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset' && typeof value === 'object') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  el.append(...children(kids));
  return el;
}

/** Replace an element's children. */
export function fill<E extends Element>(el: E, ...kids: Child[]): E {
  el.replaceChildren(...children(kids));
  return el;
}

/** The element a selector names; the page's shell is static, so a miss is a bug worth stopping for. */
export function $<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E {
  const el = root.querySelector<E>(selector);
  if (!el) throw new Error(`The page has no ${selector}`);
  return el;
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const formatMoney = (cents: number): string => money.format(cents / 100);

export function formatTime(value: Date | string): string {
  const d = value instanceof Date ? value : new Date(value);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The first block of a uuid: enough to tell orders apart on screen. */
export const shortId = (id: string): string => id.split('-')[0] ?? id;

export const STATUS_LABELS: Record<OrderStatus, string> = {
  placed: 'Placed',
  validated: 'Validated',
  rejected: 'Rejected',
  paid: 'Paid',
  payment_failed: 'Payment failed',
  approved: 'Approved',
  declined: 'Declined',
  driver_assigned: 'Driver assigned',
  picked_up: 'Picked up',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
  refunding: 'Refunding',
  refunded: 'Refunded',
};

export const isOrderStatus = (value: unknown): value is OrderStatus => typeof value === 'string' && value in STATUS_LABELS;

export function statusBadge(status: OrderStatus): HTMLElement {
  return h('span', { class: `badge status-${status}`, dataset: { status } }, STATUS_LABELS[status] ?? status);
}

export function itemsSummary(items: ReadonlyArray<{ quantity: number; name: string }> = []): string {
  return items.map((i) => `${i.quantity}× ${i.name}`).join(', ');
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Show an error under the pane's header for a while; the demo never uses alert(). */
export function flashError(within: Element | null, err: unknown): void {
  const pane = within?.closest('.pane');
  const note = h('div', { class: 'error', role: 'alert' }, messageOf(err));
  const header = pane?.querySelector(':scope > header');
  if (header) header.after(note);
  else (pane ?? document.body).prepend(note);
  setTimeout(() => note.remove(), 8000);
}

/** A list's placeholder: loading, empty, or failed, said in words (and `data-state` for tests). */
export function placeholder(state: 'loading' | 'empty' | 'error', text: string, tag: 'li' | 'div' = 'li'): HTMLElement {
  return h(tag, { class: `placeholder ${state}`, dataset: { state }, ...(state === 'loading' ? { 'aria-busy': 'true' } : {}) }, text);
}
