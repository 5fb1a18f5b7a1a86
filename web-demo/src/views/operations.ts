/**
 * The operations console (`#/operations`, admin only): what Hasura's event
 * tab shows, live.
 *
 * - The queues per trigger (pending, in flight, delivered and failed over the
 *   last minute, dead, paused), the queue depth, and throughput and latency
 *   charts: all from the `deliveryStats` subscription, which the server
 *   pushes every second from one read per tick for every console.
 * - Dead letters (redeliver one, or all of a trigger), a trigger's latest
 *   deliveries, and every attempt of one delivery (drill down); pause and
 *   resume; replay by filter; the causal tree of any event.
 * The lists are queries, re-read when the engine says something touched
 * them: the `events` stream with the engine's own events
 * (`threefactor.deliveries.progressed`, `.redelivered`, `.replayed`), resumed
 * after its cursor on reconnect. Nothing polls: with no delivery activity the
 * console sends nothing.
 *
 * Identity: on the dev token route's admin where there is one; otherwise
 * (production, DEMO_CONSOLE=true) on an admin token the operator enters,
 * kept in sessionStorage (./tokens.ts).
 */
import { createActorClient, live, run, type GraphQLRequestError, type LiveState, type LiveSubscription } from '../client.js';
import { fill, formatTime, h, messageOf, placeholder, shortId } from '../dom.js';
import type { DeliveryDetailQuery, DeliveryFieldsFragment, DeliveryStatsLiveSubscription, EngineEventsLiveSubscription } from '../gql/graphql.js';
import { CAUSAL_TREE_LIVE } from '../operations.js';
import type { DemoSettings } from '../settings.js';
import { operatorToken, setOperatorToken } from '../tokens.js';
import { createCausalTree } from './causalTree.js';
import { createChart } from './operationsChart.js';
import {
  DEAD_LETTERS,
  DELIVERY_DETAIL,
  DELIVERY_STATS_LIVE,
  ENGINE_EVENTS_LIVE,
  LOG_HEAD,
  PAUSE_TRIGGER,
  REDELIVER,
  REDELIVER_DEAD,
  REPLAY_EVENTS,
  RESUME_TRIGGER,
  TRIGGER_DELIVERIES,
} from './operationsDocuments.js';

type Stats = DeliveryStatsLiveSubscription['deliveryStats'];
type TriggerStats = Stats['triggers'][number];
type EngineEvent = EngineEventsLiveSubscription['events'];
type Detail = NonNullable<DeliveryDetailQuery['delivery']>;

const LIVE_LABELS: Record<LiveState, string> = { idle: 'idle', connecting: 'connecting…', connected: 'live', closed: 'reconnecting…' };
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v} ms`);

/** A section of the console, with its heading and an alert area for its own errors. */
function card(id: string, title: string, ...body: Array<Node | string | null>): { element: HTMLElement; alert(err: unknown): void; note: HTMLElement } {
  const note = h('div', { class: 'card-note', 'aria-live': 'polite' });
  const element = h('section', { class: 'ops-card', id, 'data-testid': id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), note, ...body);
  return {
    element,
    note,
    alert(err) {
      fill(note, h('div', { class: 'error', role: 'alert' }, messageOf(err)));
    },
  };
}

/**
 * Re-reads a list when asked, never more than one read at a time: asks
 * during a read fold into one more read after it. Driven by engine events,
 * not by a timer.
 */
function refresher(read: () => Promise<void>, onError: (err: unknown) => void): () => void {
  let running = false;
  let again = false;
  const go = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await read();
    } catch (err) {
      onError(err);
    } finally {
      running = false;
      if (again) {
        again = false;
        void go();
      }
    }
  };
  return () => void go();
}

/** The production sign-in: an admin token, checked by one admin query before it is kept. */
function tokenForm(root: HTMLElement, problem?: string): Promise<void> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'password', id: 'admin-token', name: 'admin-token', autocomplete: 'off', spellcheck: 'false', required: true, 'data-testid': 'admin-token' });
    const error = h('div', { class: 'error', role: 'alert', hidden: !problem }, problem ?? '');
    const form = h(
      'form',
      {
        class: 'ops-card token-form',
        'aria-label': 'Sign in to the operations console',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const token = input.value.trim().replace(/^Bearer\s+/i, '');
          if (!token) return;
          setOperatorToken(token);
          resolve();
        },
      },
      h('h2', {}, 'Operations console'),
      h('p', {}, 'This server has no demo token route. Enter an admin token (', h('code', {}, 'npm run --silent token -- admin'), '); it stays in this tab only.'),
      error,
      h('label', { class: 'field', for: 'admin-token' }, h('span', {}, 'Admin token'), input),
      h('div', { class: 'row' }, h('span'), h('button', { type: 'submit', class: 'primary', 'data-testid': 'sign-in' }, 'Open the console')),
    );
    fill(root, form);
    input.focus();
  });
}

export async function mountOperations(root: HTMLElement, settings: DemoSettings): Promise<void> {
  document.body.dataset.view = 'operations';
  // Production: the operator's token, checked once before anything else is drawn.
  let problem: string | undefined;
  for (;;) {
    if (!settings.tokens && !operatorToken()) await tokenForm(root, problem);
    const probe = createActorClient({ kind: 'admin' }, undefined, { normalized: false, lazy: true });
    try {
      await run(probe, LOG_HEAD, {});
      break;
    } catch (err) {
      if (settings.tokens) throw err;
      setOperatorToken(undefined);
      const code = (err as Partial<GraphQLRequestError>).code;
      problem = code === 'FORBIDDEN' ? 'That token is not an admin’s.' : code === 'UNAUTHENTICATED' ? `The token was refused: ${messageOf(err)}` : messageOf(err);
    } finally {
      probe.dispose();
    }
  }
  mountConsole(root, settings);
}

function mountConsole(root: HTMLElement, settings: DemoSettings): void {
  const badge = h('span', { class: 'live', role: 'status', dataset: { live: 'operations', state: 'idle' }, title: 'deliveryStats subscription' }, 'idle');
  const setLive = (state: LiveState) => {
    badge.dataset.state = state;
    badge.textContent = LIVE_LABELS[state];
  };
  const actor = createActorClient({ kind: 'admin' }, setLive, { normalized: false });
  const signOut = settings.tokens
    ? null
    : h(
        'button',
        {
          type: 'button',
          'data-testid': 'sign-out',
          onclick: () => {
            setOperatorToken(undefined);
            location.reload();
          },
        },
        'Sign out',
      );

  // Summary and charts.
  const summary = h('dl', { class: 'ops-summary', 'data-testid': 'ops-summary' });
  const throughput = createChart({
    title: 'Throughput',
    unit: '/s',
    testId: 'chart-throughput',
    series: [
      { name: 'delivered', className: 'series-good' },
      { name: 'failed', className: 'series-bad' },
    ],
  });
  const latency = createChart({
    title: 'Latency',
    unit: 'ms',
    testId: 'chart-latency',
    series: [
      { name: 'p50', className: 'series-p50' },
      { name: 'p95', className: 'series-p95' },
    ],
  });
  const overview = card('ops-overview', 'Deliveries, live', summary, h('div', { class: 'charts' }, throughput.element, latency.element));

  // Triggers.
  const triggerRows = h('tbody', {}, h('tr', {}, h('td', { colspan: '9' }, placeholder('loading', 'Waiting for the first numbers…', 'div'))));
  const triggers = card(
    'ops-triggers',
    'Triggers',
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { 'aria-label': 'Triggers' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['trigger', 'state', 'pending', 'in flight', 'delivered (1 min)', 'failed (1 min)', 'dead', 'latency p50 / p95', 'actions'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        triggerRows,
      ),
    ),
  );

  // Dead letters.
  const deadRows = h('tbody', {});
  const dead = card(
    'ops-dead',
    'Dead letters',
    h('div', { class: 'row' }, h('span', { class: 'muted' }, 'Deliveries that ran out of attempts, newest first.'), h('button', { type: 'button', 'data-testid': 'redeliver-all', onclick: () => void redeliverAll() }, 'Redeliver all')),
    h(
      'div',
      { class: 'scroll' },
      h('table', { 'aria-label': 'Dead letters' }, h('thead', {}, h('tr', {}, ['trigger', 'event', 'attempts', 'last', 'died', 'actions'].map((c) => h('th', { scope: 'col' }, c)))), deadRows),
    ),
  );

  // Drill-down: a trigger's deliveries, or one delivery's attempts.
  const detailBody = h('div', {}, placeholder('empty', 'Pick a trigger or a delivery to see its deliveries or attempts.', 'div'));
  const detail = card('ops-detail', 'Drill down', detailBody);

  // Replay.
  const replayTrigger = h('select', { id: 'replay-trigger', name: 'trigger', required: true, 'data-testid': 'replay-trigger' });
  const replayTypes = h('input', { id: 'replay-types', name: 'types', placeholder: 'order.placed, order.paid', 'data-testid': 'replay-types' });
  const replayFrom = h('input', { id: 'replay-from', name: 'from', type: 'datetime-local', step: '1' });
  const replayTo = h('input', { id: 'replay-to', name: 'to', type: 'datetime-local', step: '1' });
  const replayAfter = h('input', { id: 'replay-after', name: 'afterCursor', placeholder: 'xid:seq (exclusive)' });
  const replayLimit = h('input', { id: 'replay-limit', name: 'limit', type: 'number', min: '1', max: '1000000', value: '1000' });
  const replayResult = h('p', { class: 'muted', 'data-testid': 'replay-result', 'aria-live': 'polite' });
  const replay = card(
    'ops-replay',
    'Replay by filter',
    h(
      'form',
      { class: 'ops-form', 'aria-label': 'Replay events', onsubmit: (e: Event) => (e.preventDefault(), void submitReplay()) },
      h('label', { class: 'field', for: 'replay-trigger' }, h('span', {}, 'Trigger'), replayTrigger),
      h('label', { class: 'field', for: 'replay-types' }, h('span', {}, 'Types'), replayTypes),
      h('label', { class: 'field', for: 'replay-from' }, h('span', {}, 'From'), replayFrom),
      h('label', { class: 'field', for: 'replay-to' }, h('span', {}, 'Before'), replayTo),
      h('label', { class: 'field', for: 'replay-after' }, h('span', {}, 'After'), replayAfter),
      h('label', { class: 'field', for: 'replay-limit' }, h('span', {}, 'At most'), replayLimit),
      h('div', { class: 'row' }, replayResult, h('button', { type: 'submit', class: 'primary', 'data-testid': 'replay-submit' }, 'Replay')),
    ),
  );

  // Causal tree of any event.
  const treeInput = h('input', { id: 'tree-event', name: 'eventId', placeholder: 'event id (uuid)', 'data-testid': 'tree-event', autocomplete: 'off' });
  const tree = createCausalTree({ label: 'Causal tree', onDelivery: (id) => void showDelivery(id) });
  tree.element.hidden = true;
  const trees = card(
    'ops-tree',
    'Causal tree of an event',
    h(
      'form',
      { class: 'ops-form inline', 'aria-label': 'Show a causal tree', onsubmit: (e: Event) => (e.preventDefault(), showTree(treeInput.value.trim())) },
      h('label', { class: 'field', for: 'tree-event' }, h('span', {}, 'Event'), treeInput),
      h('button', { type: 'submit', 'data-testid': 'tree-show' }, 'Show'),
    ),
    tree.element,
  );

  fill(
    root,
    h(
      'div',
      { class: 'ops', 'data-testid': 'operations' },
      h('header', { class: 'ops-head' }, h('h2', {}, 'Operations console'), h('span', { class: 'muted' }, settings.tokens ? 'admin (demo token)' : 'admin (your token)'), badge, signOut),
      overview.element,
      triggers.element,
      h('div', { class: 'ops-columns' }, dead.element, detail.element),
      h('div', { class: 'ops-columns' }, replay.element, trees.element),
    ),
  );

  // ---- stats ----
  const rows = new Map<string, { tr: HTMLTableRowElement; cells: HTMLTableCellElement[]; pause: HTMLButtonElement; redeliver: HTMLButtonElement }>();
  let latest: Stats | undefined;

  function triggerRow(t: TriggerStats) {
    const cells = Array.from({ length: 8 }, () => h('td', {}));
    cells[0] = h('td', {}, h('button', { type: 'button', class: 'link', 'data-testid': 'trigger-deliveries', onclick: () => void showTrigger(t.trigger) }, t.trigger));
    const pause = h('button', { type: 'button', 'data-testid': 'pause-toggle', onclick: () => void togglePause(t.trigger) }, 'Pause');
    const redeliver = h('button', { type: 'button', 'data-testid': 'redeliver-dead', onclick: () => void redeliverDead(t.trigger) }, 'Redeliver dead');
    const tr = h('tr', { dataset: { trigger: t.trigger } }, cells, h('td', { class: 'actions' }, pause, redeliver));
    return { tr, cells, pause, redeliver };
  }

  function renderStats(stats: Stats): void {
    latest = stats;
    fill(
      summary,
      [
        ['Queue depth', stats.queueDepth, 'queue-depth'],
        ['In flight', stats.running, 'in-flight'],
        ['Dead', stats.dead, 'dead-total'],
        ['Attempts/s', stats.samples.at(-1)?.throughputPerSec ?? 0, 'throughput'],
      ].map(([label, value, id]) => h('div', { dataset: { stat: String(id) } }, h('dt', {}, String(label)), h('dd', {}, String(value)))),
    );
    const ticks = Math.max(2, Math.round(60_000 / stats.intervalMs));
    const perSecond = (n: number) => Math.round((n * 1000 * 100) / stats.intervalMs) / 100;
    throughput.update(
      stats.samples.map((s) => [perSecond(s.delivered), perSecond(s.failed)]),
      ticks,
    );
    latency.update(
      stats.samples.map((s) => [s.latencyP50Ms ?? null, s.latencyP95Ms ?? null]),
      ticks,
    );

    if (!stats.triggers.length) fill(triggerRows, h('tr', {}, h('td', { colspan: '9' }, placeholder('empty', 'No triggers are defined.', 'div'))));
    const names = new Set(stats.triggers.map((t) => t.trigger));
    for (const [name, row] of rows) if (!names.has(name)) (row.tr.remove(), rows.delete(name));
    if (stats.triggers.length && !rows.size) fill(triggerRows);
    for (const t of stats.triggers) {
      let row = rows.get(t.trigger);
      if (!row) {
        row = triggerRow(t);
        rows.set(t.trigger, row);
        triggerRows.append(row.tr);
      }
      const state = t.paused ? 'paused' : 'active';
      row.tr.dataset.paused = String(t.paused);
      row.tr.dataset.dead = String(t.dead);
      row.tr.dataset.pending = String(t.pending);
      fill(row.cells[1]!, h('span', { class: `badge ${t.paused ? 'warn' : 'good'}`, title: t.pausedReason ?? '' }, state), t.paused && t.pausedReason ? h('small', { class: 'muted' }, ` ${t.pausedReason}`) : null);
      row.cells[2]!.textContent = String(t.pending);
      row.cells[3]!.textContent = String(t.running);
      row.cells[4]!.textContent = String(t.delivered);
      row.cells[5]!.textContent = String(t.failed);
      row.cells[6]!.textContent = String(t.dead);
      row.cells[7]!.textContent = t.attempts ? `${ms(t.latencyP50Ms)} / ${ms(t.latencyP95Ms)}` : '–';
      if (!row.pause.dataset.busy) row.pause.textContent = t.paused ? 'Resume' : 'Pause';
      row.pause.setAttribute('aria-label', `${t.paused ? 'Resume' : 'Pause'} ${t.trigger}`);
      row.redeliver.disabled = t.dead === 0;
      row.redeliver.setAttribute('aria-label', `Redeliver every dead letter of ${t.trigger}`);
    }
    const chosen = replayTrigger.value;
    if (replayTrigger.options.length !== stats.triggers.length) {
      fill(replayTrigger, stats.triggers.map((t) => h('option', { value: t.trigger }, t.trigger)));
      if (chosen && names.has(chosen)) replayTrigger.value = chosen;
    }
  }

  const statsFeed = live(actor, DELIVERY_STATS_LIVE, () => ({}), {
    next: (data) => renderStats(data.deliveryStats),
    error: (err) => overview.alert(err),
  });

  // ---- actions ----
  async function togglePause(trigger: string): Promise<void> {
    const row = rows.get(trigger);
    const paused = latest?.triggers.find((t) => t.trigger === trigger)?.paused ?? false;
    if (row) {
      row.pause.disabled = true;
      row.pause.dataset.busy = 'true';
    }
    try {
      const result = paused ? (await run(actor, RESUME_TRIGGER, { name: trigger })).resumeTrigger : (await run(actor, PAUSE_TRIGGER, { name: trigger })).pauseTrigger;
      // Shown at once; the next push says the same.
      if (row) {
        row.pause.textContent = result.paused ? 'Resume' : 'Pause';
        row.tr.dataset.paused = String(result.paused);
        fill(row.cells[1]!, h('span', { class: `badge ${result.paused ? 'warn' : 'good'}` }, result.paused ? 'paused' : 'active'));
      }
      if (latest) for (const t of latest.triggers) if (t.trigger === trigger) t.paused = result.paused;
    } catch (err) {
      triggers.alert(err);
    } finally {
      if (row) {
        row.pause.disabled = false;
        delete row.pause.dataset.busy;
      }
    }
  }

  async function redeliverDead(trigger: string): Promise<void> {
    try {
      const { redeliverDead: result } = await run(actor, REDELIVER_DEAD, { trigger });
      fill(dead.note, h('p', { class: 'muted' }, `${result.count} dead letter${result.count === 1 ? '' : 's'} of ${trigger} sent again.`));
    } catch (err) {
      dead.alert(err);
    }
  }

  async function redeliverAll(): Promise<void> {
    const withDead = (latest?.triggers ?? []).filter((t) => t.dead > 0).map((t) => t.trigger);
    if (!withDead.length) return void fill(dead.note, h('p', { class: 'muted' }, 'No dead letters.'));
    try {
      let count = 0;
      for (const trigger of withDead) count += (await run(actor, REDELIVER_DEAD, { trigger })).redeliverDead.count;
      fill(dead.note, h('p', { class: 'muted' }, `${count} dead letter${count === 1 ? '' : 's'} sent again.`));
    } catch (err) {
      dead.alert(err);
    }
  }

  async function redeliverOne(id: string, button?: HTMLButtonElement): Promise<void> {
    if (button) button.disabled = true;
    try {
      const { redeliverDeliveries: result } = await run(actor, REDELIVER, { ids: [id] });
      const text = result.count ? `Delivery ${shortId(id)} sent again.` : `Delivery ${shortId(id)} is running right now: let it finish, then redeliver if needed.`;
      fill(dead.note, h('p', { class: 'muted' }, text));
    } catch (err) {
      dead.alert(err);
      if (button) button.disabled = false;
    }
  }

  async function submitReplay(): Promise<void> {
    const types = replayTypes.value
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const iso = (input: HTMLInputElement) => (input.value ? new Date(input.value).toISOString() : null);
    try {
      const { replayEvents: result } = await run(actor, REPLAY_EVENTS, {
        trigger: replayTrigger.value,
        filter: { types: types.length ? types : null, from: iso(replayFrom), to: iso(replayTo), afterCursor: replayAfter.value.trim() || null },
        limit: replayLimit.value ? Number(replayLimit.value) : null,
      });
      replayResult.textContent = `${result.count} event${result.count === 1 ? '' : 's'} replayed to ${replayTrigger.value}${result.complete ? '' : `; more remain: continue after ${result.lastCursor}`}.`;
    } catch (err) {
      replay.alert(err);
    }
  }

  // ---- lists, re-read on engine events ----
  function deliveryRow(d: DeliveryFieldsFragment, extra: HTMLElement[]): HTMLTableRowElement {
    return h(
      'tr',
      { dataset: { deliveryId: d.id, trigger: d.triggerName, status: d.status, eventId: d.event.id } },
      h('td', {}, d.triggerName),
      h('td', {}, h('code', {}, d.event.type), h('small', { class: 'muted' }, ` ${d.event.aggregateType} ${shortId(d.event.aggregateId)}`)),
      h('td', {}, `${d.attemptCount} / ${d.maxAttempts}`),
      h('td', { class: 'last-error' }, d.lastHttpStatus ? `HTTP ${d.lastHttpStatus}` : '', d.lastError ? h('small', { class: 'muted' }, ` ${d.lastError}`) : ''),
      h('td', { class: 'time' }, formatTime(d.completedAt ?? d.updatedAt)),
      h('td', { class: 'actions' }, extra),
    );
  }

  let deadIds = new Set<string>();
  const refreshDead = refresher(async () => {
    const { deliveries } = await run(actor, DEAD_LETTERS, {});
    const list = deliveries.edges.map((e) => e.node);
    deadIds = new Set(list.map((d) => d.id));
    fill(
      deadRows,
      list.length
        ? list.map((d) =>
            deliveryRow(d, [
              h('button', { type: 'button', class: 'primary', 'data-testid': 'redeliver', 'aria-label': `Redeliver ${d.triggerName} delivery ${shortId(d.id)}`, onclick: (e: Event) => void redeliverOne(d.id, e.currentTarget as HTMLButtonElement) }, 'Redeliver'),
              h('button', { type: 'button', 'data-testid': 'attempts', 'aria-label': `Attempts of delivery ${shortId(d.id)}`, onclick: () => void showDelivery(d.id) }, 'Attempts'),
              h('button', { type: 'button', 'data-testid': 'tree', 'aria-label': `Causal tree of event ${shortId(d.event.id)}`, onclick: () => showTree(d.event.id) }, 'Tree'),
            ]),
          )
        : h('tr', {}, h('td', { colspan: '6' }, placeholder('empty', 'No dead letters.', 'div'))),
    );
  }, dead.alert);

  /** What the drill-down shows: nothing, a trigger's deliveries, or a delivery's attempts. */
  let focus: { kind: 'trigger'; trigger: string } | { kind: 'delivery'; id: string } | undefined;

  const refreshDetail = refresher(async () => {
    const shown = focus;
    if (!shown) return;
    if (shown.kind === 'trigger') {
      const { deliveries } = await run(actor, TRIGGER_DELIVERIES, { trigger: shown.trigger });
      if (focus !== shown) return;
      const list = deliveries.edges.map((e) => e.node);
      fill(
        detailBody,
        h('h3', {}, `Latest deliveries of ${shown.trigger}`),
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { 'aria-label': `Deliveries of ${shown.trigger}`, 'data-testid': 'trigger-deliveries-table' },
            h('thead', {}, h('tr', {}, ['trigger', 'event', 'attempts', 'last', 'updated', 'status'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              list.length
                ? list.map((d) => deliveryRow(d, [h('button', { type: 'button', class: `badge-button status-${d.status}`, 'aria-label': `Attempts of delivery ${shortId(d.id)}, ${d.status}`, onclick: () => void showDelivery(d.id) }, d.status)]))
                : h('tr', {}, h('td', { colspan: '6' }, placeholder('empty', 'No deliveries yet.', 'div'))),
            ),
          ),
        ),
      );
      return;
    }
    const { delivery } = await run(actor, DELIVERY_DETAIL, { id: shown.id });
    if (focus !== shown) return;
    if (!delivery) return void fill(detailBody, placeholder('empty', `No delivery ${shown.id} (retention may have deleted it).`, 'div'));
    renderDelivery(delivery);
  }, detail.alert);

  function renderDelivery(d: Detail): void {
    fill(
      detailBody,
      h(
        'div',
        { class: 'delivery-head', 'data-testid': 'delivery-detail', dataset: { deliveryId: d.id, status: d.status } },
        h('h3', {}, `${d.triggerName} · delivery ${shortId(d.id)}`),
        h('span', { class: `badge status-${d.status}`, 'data-testid': 'delivery-status' }, d.status),
        h('span', { class: 'muted' }, ` ${d.event.type} · ${d.source} · ${d.attemptCount} of ${d.maxAttempts} attempts`, d.status === 'pending' ? ` · next at ${formatTime(d.runAt)}` : ''),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', 'data-testid': 'detail-redeliver', disabled: d.status === 'running', onclick: (e: Event) => void redeliverOne(d.id, e.currentTarget as HTMLButtonElement) }, 'Redeliver'),
          h('button', { type: 'button', onclick: () => showTree(d.event.id) }, 'Causal tree'),
          d.triggerName ? h('button', { type: 'button', onclick: () => void showTrigger(d.triggerName) }, `All of ${d.triggerName}`) : null,
        ),
      ),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { 'aria-label': `Attempts of delivery ${shortId(d.id)}`, 'data-testid': 'attempts-table' },
          h('thead', {}, h('tr', {}, ['#', 'outcome', 'started', 'took', 'HTTP', 'dispatcher', 'error / response'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            d.attempts.length
              ? d.attempts.map((a) =>
                  h(
                    'tr',
                    { dataset: { attempt: String(a.attempt), outcome: a.outcome } },
                    h('td', {}, String(a.attempt)),
                    h('td', {}, h('span', { class: `badge outcome-${a.outcome}` }, a.outcome)),
                    h('td', { class: 'time' }, formatTime(a.startedAt)),
                    h('td', {}, ms(a.durationMs)),
                    h('td', {}, a.httpStatus === null ? 'none' : String(a.httpStatus)),
                    h('td', {}, h('code', {}, a.dispatcherId)),
                    h('td', { class: 'last-error' }, a.error ?? a.responseBody ?? ''),
                  ),
                )
              : h('tr', {}, h('td', { colspan: '7' }, placeholder('empty', 'Not attempted yet.', 'div'))),
          ),
        ),
      ),
    );
  }

  function showTrigger(trigger: string): Promise<void> {
    focus = { kind: 'trigger', trigger };
    fill(detailBody, placeholder('loading', `Loading the deliveries of ${trigger}…`, 'div'));
    refreshDetail();
    detail.element.scrollIntoView({ block: 'nearest' });
    return Promise.resolve();
  }

  function showDelivery(id: string): Promise<void> {
    focus = { kind: 'delivery', id };
    fill(detailBody, placeholder('loading', `Loading delivery ${shortId(id)}…`, 'div'));
    refreshDetail();
    detail.element.scrollIntoView({ block: 'nearest' });
    return Promise.resolve();
  }

  let treeFeed: LiveSubscription | undefined;
  function showTree(eventId: string): void {
    treeFeed?.stop();
    treeInput.value = eventId;
    tree.element.hidden = false;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(eventId)) return tree.message('error', 'An event id is a UUID, e.g. from a dead letter’s Tree button.');
    tree.message('loading', `Loading what event ${shortId(eventId)} caused…`);
    const feed = live(actor, CAUSAL_TREE_LIVE, () => ({ eventId }), {
      next: (data) => {
        tree.update(data.causalTree);
        if (data.causalTree.settled) feed.stop();
      },
      error: (err) => tree.message('error', messageOf(err)),
    });
    treeFeed = feed;
    trees.element.scrollIntoView({ block: 'nearest' });
  }

  /** Which lists an engine event touches. */
  function onEngineEvent(event: EngineEvent): void {
    lastCursor = event.cursor;
    const payload = event.payload as { outcomes?: Array<{ deliveryId: string; trigger: string; outcome: string }>; deliveries?: Array<{ deliveryId: string; trigger: string }>; truncated?: boolean };
    const touched = [...(payload.outcomes ?? []), ...(payload.deliveries ?? [])];
    const all = payload.truncated === true;
    if (event.type === 'threefactor.deliveries.progressed') {
      if (all || (payload.outcomes ?? []).some((o) => o.outcome === 'dead' || deadIds.has(o.deliveryId))) refreshDead();
    } else if (event.type === 'threefactor.deliveries.redelivered' || event.type === 'threefactor.deliveries.replayed') {
      if (all || touched.some((d) => deadIds.has(d.deliveryId)) || event.type === 'threefactor.deliveries.redelivered') refreshDead();
    } else return;
    if (
      focus &&
      (all || touched.some((d) => (focus!.kind === 'delivery' ? d.deliveryId === focus!.id : d.trigger === focus!.trigger)) || (focus.kind === 'trigger' && event.type === 'threefactor.deliveries.replayed'))
    ) {
      refreshDetail();
    }
  }

  let lastCursor: string | undefined;
  let engineFeed: LiveSubscription | undefined;
  const subscribeEngineEvents = (): void => {
    engineFeed = live(actor, ENGINE_EVENTS_LIVE, () => ({ after: lastCursor ?? null }), {
      next: (data) => onEngineEvent(data.events),
      error: (err) => {
        const cut = err as Partial<GraphQLRequestError>;
        if (cut.code === 'SLOW_CONSUMER' && typeof cut.extensions?.cursor === 'string') {
          lastCursor = cut.extensions.cursor;
          // Something may have been missed: re-read what is shown.
          refreshDead();
          refreshDetail();
          engineFeed?.restart();
        } else dead.alert(err);
      },
    });
  };

  // The stream starts after the log's head as of now, and the lists are read after that:
  // a change between the two comes as an event, so nothing is missed.
  fill(deadRows, h('tr', {}, h('td', { colspan: '6' }, placeholder('loading', 'Loading dead letters…', 'div'))));
  run(actor, LOG_HEAD, {})
    .then((head) => {
      lastCursor = head.events.edges[0]?.node.cursor ?? '0:0';
      subscribeEngineEvents();
      refreshDead();
    })
    .catch((err: unknown) => dead.alert(err));

}
