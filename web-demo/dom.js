// DOM and formatting helpers for the demo panes. Text always goes in as text
// nodes, never as HTML, so nothing a server or user sends can inject markup.

/** h('button', { class: 'x', onclick }, 'label', child) -> element */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const formatMoney = (cents) => money.format(cents / 100);

export function formatTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The first block of a uuid: enough to tell orders apart on screen. */
export const shortId = (id) => String(id).split('-')[0];

export const STATUS_LABELS = {
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
};

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, dataset: { status } }, STATUS_LABELS[status] ?? status);
}

export function itemsSummary(items = []) {
  return items.map((i) => `${i.quantity}× ${i.name}`).join(', ');
}

/** Show an error under the pane's header for a while; the demo never uses alert(). */
export function flashError(within, err) {
  const pane = within?.closest('.pane');
  const note = h('div', { class: 'error', role: 'alert' }, err?.message ?? String(err));
  const header = pane?.querySelector(':scope > header');
  if (header) header.after(note);
  else (pane ?? document.body).prepend(note);
  setTimeout(() => note.remove(), 8000);
}
