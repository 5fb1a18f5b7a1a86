/**
 * The live event log (admin view): every event as it is committed, with its
 * type, time, the order it belongs to, the actor (session) whose write caused
 * it and the order state it carries, and the triggers the server routed it to
 * (its deliveries, made in the event's own transaction: routing is the
 * server's, never re-done here), so the chain mutation → event → handler →
 * write-back → event reads top to bottom.
 *
 * It opens with history (the newest events, from the `events` query), then
 * streams everything after the newest of them; after a dropped socket or a
 * SLOW_CONSUMER cut it resumes after the last cursor it showed, so no event
 * is missed and none shown twice.
 */
import { createActorClient, live, run, type GraphQLRequestError, type LiveState } from '../client.js';
import { fill, flashError, formatTime, h, isOrderStatus, placeholder, shortId, statusBadge } from '../dom.js';
import type { EventFieldsFragment } from '../gql/graphql.js';
import { EVENTS_LIVE, RECENT_EVENTS } from '../operations.js';

const MAX_ROWS = 200;
const HISTORY = 50;
/** Before every event ("xid:seq"): an empty log streams from its very start, so nothing lands between query and stream. */
const LOG_ORIGIN = '0:0';

export function mountEventLog(body: HTMLTableSectionElement, { names, setLive }: { names: Map<string, string>; setLive(state: LiveState): void }): void {
  const actor = createActorClient({ kind: 'admin' }, setLive);
  let lastCursor: string | undefined;
  const seen = new Set<string>();
  const row = (el: HTMLElement) => h('tr', { class: 'placeholder-row' }, h('td', { colspan: '6' }, el));
  const empty = row(placeholder('empty', 'No events yet: place an order.', 'div'));
  fill(body, row(placeholder('loading', 'Loading history…', 'div')));

  function actorOf(session: Record<string, unknown> | null): HTMLElement {
    const role = session?.['x-hasura-role'];
    const id = session?.['x-hasura-user-id'];
    if (typeof role !== 'string') return h('span', { class: 'actor' }, 'system');
    return h('span', { class: `actor role-${role}` }, h('b', {}, role), ` ${(typeof id === 'string' && names.get(id)) || (typeof id === 'string' ? id : '')}`);
  }

  function add(event: EventFieldsFragment, fresh: boolean): void {
    lastCursor = event.cursor;
    // A resumed stream may repeat what a replaced one already sent: show each event once.
    if (seen.has(event.id)) return;
    seen.add(event.id);
    empty.remove();
    const { status, version } = event.payload;
    const handlers = [...new Set(event.deliveries.map((d) => d.triggerName))];
    const tr = h(
      'tr',
      { class: fresh ? 'fresh' : '', dataset: { eventType: event.type, eventId: event.id, aggregateId: event.aggregateId } },
      h('td', { class: 'time' }, formatTime(event.createdAt)),
      h('td', { class: 'type' }, h('code', {}, event.type)),
      h('td', {}, `${event.aggregateType} ${shortId(event.aggregateId)}`),
      h('td', {}, actorOf(event.session)),
      h('td', {}, isOrderStatus(status) ? statusBadge(status) : '', typeof version === 'number' ? h('span', { class: 'muted' }, ` v${version}`) : ''),
      h('td', { class: 'handler' }, handlers.map((name) => `→ ${name}`).join(' ')),
    );
    body.prepend(tr);
    if (fresh) setTimeout(() => tr.classList.remove('fresh'), 1500);
    while (body.rows.length > MAX_ROWS) {
      const last = body.rows[body.rows.length - 1]!;
      if (last.dataset.eventId) seen.delete(last.dataset.eventId);
      last.remove();
    }
  }

  function stream(): void {
    const subscription = live(actor, EVENTS_LIVE, () => ({ after: lastCursor ?? LOG_ORIGIN }), {
      next: (data) => add(data.events, true),
      error: (err) => {
        const cut = err as Partial<GraphQLRequestError>;
        if (cut.code === 'SLOW_CONSUMER') {
          const cursor = cut.extensions?.cursor;
          if (typeof cursor === 'string') lastCursor = cursor;
          subscription.restart();
        } else flashError(body, err);
      },
    });
  }

  run(actor, RECENT_EVENTS, { first: HISTORY })
    .then((data) => {
      const history = data.events.edges.map((e) => e.node);
      fill(body, empty);
      // Newest first from the query: add oldest first, so each lands on top as the stream's would.
      for (const event of history.reverse()) add(event, false);
      stream();
    })
    .catch((err: unknown) => {
      fill(body, row(placeholder('error', `The event log could not load: ${err instanceof Error ? err.message : String(err)}`, 'div')));
      flashError(body, err);
    });
}
