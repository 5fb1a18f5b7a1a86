// The live event log (admin view of the `events` subscription): every event
// as it is committed, with its type, time, the order it belongs to, the actor
// (session) whose write caused it and the order state it carries. Each event
// is marked with the triggers the server routed it to (its deliveries, which
// the stream carries: routing is the server's, never re-done here), so the
// chain mutation → event → handler → write-back → event reads top to bottom.
import { fill, flashError, formatTime, h, shortId, statusBadge } from './dom.js';
import { liveClient } from './graphql.js';
import { EVENTS_LIVE } from './operations.js';

const MAX_ROWS = 200;

/**
 * @param body the <tbody> to fill
 * @param opts { names: Map<id, name>, setLive }
 */
export function mountEventLog(body, { names, setLive }) {
  // The stream is resumable: after a dropped socket or a SLOW_CONSUMER cut,
  // subscribe again after the last cursor seen, so no event goes missing.
  let lastCursor = null;
  let unsubscribe;
  const live = liveClient({ kind: 'admin' }, setLive, () => start());
  const seen = new Set();
  const empty = h('tr', { class: 'empty' }, h('td', { colspan: '6' }, 'No events yet: place an order.'));
  fill(body, empty);

  function actorOf(session) {
    const role = session?.['x-hasura-role'];
    const id = session?.['x-hasura-user-id'];
    if (!role) return h('span', { class: 'actor' }, 'system');
    return h('span', { class: `actor role-${role}` }, h('b', {}, role), ` ${names.get(id) ?? id ?? ''}`);
  }

  function add(event) {
    lastCursor = event.cursor ?? lastCursor;
    // A resumed stream may repeat what a replaced one already sent: show each event once.
    if (seen.has(event.id)) return;
    seen.add(event.id);
    empty.remove();
    const payload = event.payload ?? {};
    const handlers = [...new Set((event.deliveries ?? []).map((d) => d.triggerName))];
    const row = h(
      'tr',
      { class: 'fresh', dataset: { eventType: event.type, eventId: event.id, aggregateId: event.aggregateId } },
      h('td', { class: 'time' }, formatTime(event.createdAt)),
      h('td', { class: 'type' }, h('code', {}, event.type)),
      h('td', {}, `${event.aggregateType} ${shortId(event.aggregateId)}`),
      h('td', {}, actorOf(event.session)),
      h('td', {}, payload.status ? statusBadge(payload.status) : '', payload.version ? h('span', { class: 'muted' }, ` v${payload.version}`) : ''),
      h('td', { class: 'handler' }, handlers.map((name) => `→ ${name}`).join(' ')),
    );
    body.prepend(row);
    setTimeout(() => row.classList.remove('fresh'), 1500);
    while (body.rows.length > MAX_ROWS) {
      const last = body.rows[body.rows.length - 1];
      seen.delete(last.dataset.eventId);
      last.remove();
    }
  }

  function start() {
    unsubscribe?.();
    unsubscribe = live.subscribe(EVENTS_LIVE, lastCursor ? { after: lastCursor } : {}, {
      next: (data) => add(data.events),
      error: (err) => {
        if (err.code === 'SLOW_CONSUMER') {
          lastCursor = err.extensions.cursor ?? lastCursor;
          start();
        } else flashError(body, err);
      },
    });
  }
  start();
}
