/**
 * The outcome rule, end to end through a real dispatcher, a real HTTP
 * receiver and real in-process handlers: 2xx delivered; a trigger's
 * permanent status dead at once; 410 Gone pauses the trigger (the delivery
 * waits, uncounted, and continues on resume); everything else retried with
 * backoff or Retry-After until the last attempt. A trigger declared like
 * Hasura metadata (no permanent statuses, no pause) retries every non-2xx.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { deliveryMetricsHooks } from '../../src/engine/dispatcher/metrics.js';
import { pauseTrigger, resumeTrigger } from '../../src/engine/events/admin/pause.js';
import { DEFAULT_PERMANENT_STATUSES, outcomePolicy, type InProcessHandler, type TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { loadTriggerViews } from '../../src/engine/graphql/modules/adminTriggers.js';
import { registry as metricsRegistry } from '../../src/engine/server/metrics.js';
import { DEFAULT_PERMANENT_STATUSES as CONTRACT_PERMANENT, DEFAULT_STATUS_POLICY, isRetryableStatus, statusOutcome } from '../../src/kit/contract.js';
import { HandlerFailure, PermanentFailure, RetryLater } from '../../src/kit/errors.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET } from '../support/events.js';
import { startReceiver, waitFor, type Receiver, type Reply } from '../support/receiver.js';

let db: TestDatabase;
let receiver: Receiver;
let dispatcher: Dispatcher | undefined;
const logLines: Array<Record<string, unknown>> = [];

/** Short intervals so every retry happens within the test; maxIntervalSec leaves room for a Retry-After of 1 s. */
const FAST = { intervalSec: 0.05, maxIntervalSec: 5, timeoutSec: 2 };

/** What the receiver answers per trigger (the request's path), by the trigger's request number. */
const webhookReplies: Record<string, (nth: number, answer: unknown) => Reply> = {
  ok: () => ({ status: 200 }),
  permanent: () => ({ status: 422, body: 'never' }),
  unauthorized: (n) => (n === 1 ? { status: 401 } : n === 2 ? { status: 404 } : { status: 200 }),
  flaky: (n) => (n === 1 ? { status: 500 } : n === 2 ? { status: 200, delayMs: 600 } : { status: 200 }),
  'retry-after': (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }),
  'gone-off': (n) => (n === 1 ? { status: 410 } : { status: 200 }),
  'hasura-like': () => ({ status: 422 }),
};

/** The 'gone' trigger answers by the event's `answer` field until the target is back. */
let goneBack = false;
function goneReply(answer: unknown): Reply {
  if (goneBack) return { status: 200 };
  if (answer === 'slow') return { status: 200, delayMs: 800 };
  if (answer === 'slow-gone') return { status: 410, delayMs: 800 };
  return { status: 410 };
}

/** In-process handlers: each fails its first call as named, then succeeds (ip-permanent always; ip-gone until it is back). */
const handlerCalls = new Map<string, number>();
const firstFailure: Record<string, () => unknown> = {
  // Duck-typed on purpose: any thrown error with a numeric status is read as that answer.
  'ip-permanent': () => Object.assign(new Error('this event can never be processed'), { status: 422 }),
  'ip-retry-later': () => new RetryLater('no driver free', 1),
  'ip-plain': () => new Error('boom'),
  'ip-gone': () => new HandlerFailure('this handler is gone', 410),
};
let ipGoneBack = false;
const inProcess: InProcessHandler = async (payload) => {
  const name = payload.trigger.name;
  const n = (handlerCalls.get(name) ?? 0) + 1;
  handlerCalls.set(name, n);
  const failsNow = name === 'ip-permanent' || (name === 'ip-gone' ? !ipGoneBack : n === 1);
  if (failsNow) throw firstFailure[name]!();
};

function webhook(name: string, extra: Partial<TriggerDefinition> = {}): TriggerDefinition {
  return { name, match: { kind: 'event', types: [`t.${name}`] }, target: { kind: 'webhook', url: `${receiver.url}/${name}` }, retry: { numRetries: 3, ...FAST }, ...extra };
}

function handled(name: string): TriggerDefinition {
  return { name, match: { kind: 'event', types: [`t.${name}`] }, target: { kind: 'inProcess', handler: 'script' }, retry: { numRetries: 3, ...FAST } };
}

async function emit(trigger: string, payload: Record<string, unknown> = {}): Promise<string> {
  const [id] = await emitEvents(db, [{ type: `t.${trigger}`, aggregateType: 'thing', aggregateId: trigger, payload }]);
  return id!;
}

interface DeliveryState {
  id: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  /** run_at − updated_at of the last outcome write: the delay it chose. */
  delay_ms: number;
}

async function delivery(eventId: string): Promise<DeliveryState> {
  const [row] = await db.sql<DeliveryState[]>`
    select id, status, attempts, last_status, last_error, (extract(epoch from run_at - updated_at) * 1000)::float8 as delay_ms
    from threefactor.deliveries where event_id = ${eventId}`;
  return row!;
}

async function settled(eventId: string, status: 'delivered' | 'dead'): Promise<DeliveryState> {
  await waitFor(`delivery of ${eventId} ${status}`, async () => (await delivery(eventId)).status === status);
  return delivery(eventId);
}

interface AttemptRow {
  attempt: number;
  outcome: string;
  http_status: number | null;
  error: string | null;
  response_body: string | null;
  /** Epoch ms. */
  started_ms: number;
  duration_ms: number;
}

async function attemptsOf(deliveryId: string): Promise<AttemptRow[]> {
  return db.sql<AttemptRow[]>`
    select attempt, outcome, http_status, error, response_body, (extract(epoch from started_at) * 1000)::float8 as started_ms, duration_ms
    from threefactor.delivery_attempts where delivery_id = ${deliveryId} order by id`;
}

async function pausesCounted(trigger: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('threefactor_trigger_pauses_total')?.get();
  return metric?.values.find((v) => v.labels.trigger === trigger)?.value ?? 0;
}

beforeAll(async () => {
  db = await freshDatabase();
  receiver = await startReceiver((req) => {
    const name = req.path.slice(1);
    const nth = receiver.forTrigger(name).length;
    const answer = (req.json as { event?: { data?: { new?: { answer?: unknown } } } }).event?.data?.new?.answer;
    return name === 'gone' ? goneReply(answer) : webhookReplies[name]!(nth, answer);
  });
  // A port nothing listens on, for "no connection".
  const closed = await startReceiver();
  const closedUrl = closed.url;
  await closed.close();
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  dispatcher = await startDispatcher({
    database: db,
    log,
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 100,
    hooks: deliveryMetricsHooks(),
    inProcessHandlers: { script: inProcess },
    triggers: [
      webhook('ok'),
      webhook('permanent'),
      webhook('unauthorized'),
      webhook('flaky', { retry: { numRetries: 3, ...FAST, timeoutSec: 0.3 } }),
      webhook('unreachable', { target: { kind: 'webhook', url: `${closedUrl}/unreachable` }, retry: { numRetries: 2, ...FAST } }),
      webhook('retry-after'),
      webhook('gone'),
      webhook('gone-off', { pauseOnGone: false }),
      // As the Hasura metadata loader declares a trigger without a `threefactor:` opt-in.
      webhook('hasura-like', { permanentStatuses: [], pauseOnGone: false, retry: { numRetries: 2, ...FAST } }),
      handled('ip-permanent'),
      handled('ip-retry-later'),
      handled('ip-plain'),
      handled('ip-gone'),
    ],
  });
});

afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await receiver?.close();
  await db?.drop();
});

describe('webhook outcomes', () => {
  it('2xx: delivered after one attempt', async () => {
    const d = await settled(await emit('ok'), 'delivered');
    expect(d).toMatchObject({ attempts: 1, last_status: 200, last_error: null });
    expect((await attemptsOf(d.id)).map((a) => a.outcome)).toEqual(['delivered']);
  });

  it('a default permanent status (422): dead after one attempt, the status and reason recorded', async () => {
    const d = await settled(await emit('permanent'), 'dead');
    const reason = 'HTTP 422 is a permanent status for this trigger';
    expect(d).toMatchObject({ attempts: 1, last_status: 422, last_error: reason });
    expect(await attemptsOf(d.id)).toMatchObject([{ attempt: 1, outcome: 'dead', http_status: 422, error: reason, response_body: 'never' }]);
    expect(receiver.forTrigger('permanent')).toHaveLength(1);
  });

  it('401 and 404 are retried, not dead: a mis-rotated secret or a rolling deploy must not dead-letter', async () => {
    const d = await settled(await emit('unauthorized'), 'delivered');
    expect(d.attempts).toBe(3);
    expect(await attemptsOf(d.id)).toMatchObject([
      { attempt: 1, outcome: 'retry', http_status: 401, error: 'HTTP 401' },
      { attempt: 2, outcome: 'retry', http_status: 404, error: 'HTTP 404' },
      { attempt: 3, outcome: 'delivered', http_status: 200 },
    ]);
  });

  it('500 and a timeout are retried with exponential backoff', async () => {
    const d = await settled(await emit('flaky'), 'delivered');
    const attempts = await attemptsOf(d.id);
    expect(attempts).toMatchObject([
      { attempt: 1, outcome: 'retry', http_status: 500, error: 'HTTP 500' },
      { attempt: 2, outcome: 'retry', http_status: null, error: 'timed out after 300 ms' },
      { attempt: 3, outcome: 'delivered', http_status: 200 },
    ]);
    // Backoff after attempt n is intervalSec · 2^(n−1) ± 20%: at least 40 ms, then 80 ms, between one attempt's end and the next start.
    const gap = (i: number) => attempts[i + 1]!.started_ms - (attempts[i]!.started_ms + attempts[i]!.duration_ms);
    expect(gap(0)).toBeGreaterThanOrEqual(40 - 2);
    expect(gap(1)).toBeGreaterThanOrEqual(80 - 2);
  });

  it('no connection: retried, and dead after the last attempt', async () => {
    const d = await settled(await emit('unreachable'), 'dead');
    expect(d).toMatchObject({ attempts: 3, last_status: null });
    expect(d.last_error).toMatch(/ECONNREFUSED/);
    expect((await attemptsOf(d.id)).map((a) => a.outcome)).toEqual(['retry', 'retry', 'dead']);
  });

  it('honours Retry-After over the backoff', async () => {
    const eventId = await emit('retry-after');
    await waitFor('the first attempt written', async () => (await delivery(eventId)).attempts === 1);
    const waiting = await delivery(eventId);
    expect(waiting).toMatchObject({ status: 'pending', last_status: 503 });
    // run_at − now() of the outcome write: exactly the receiver's second, not the trigger's 50 ms backoff.
    expect(waiting.delay_ms).toBeCloseTo(1000, 0);
    await settled(eventId, 'delivered');
    const [first, second] = receiver.forTrigger('retry-after');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it('410 Gone pauses the trigger: that delivery waits uncounted, running ones finish, the pause is logged and counted once, resume continues', async () => {
    const slow = await emit('gone', { answer: 'slow' });
    const slowGone = await emit('gone', { answer: 'slow-gone' });
    await waitFor('two slow attempts in flight', () => receiver.forTrigger('gone').length === 2);
    const gone = await emit('gone', { answer: 'gone' });
    await waitFor('the trigger paused', async () => (await loadTriggerViews(db, 'gone'))[0]!.paused);
    const queued = await emit('gone', { answer: 'queued' });

    // The attempts in flight when it paused finish normally: one delivered, one 410 that leaves the pause as it was.
    expect((await settled(slow, 'delivered')).attempts).toBe(1);
    const pausedAttempt = (id: string) => async () => (await attemptsOf(id)).some((a) => a.outcome === 'paused');
    await waitFor('the second 410 recorded', async () => pausedAttempt((await delivery(slowGone)).id)());

    const [view] = await loadTriggerViews(db, 'gone');
    const reason = `gone: HTTP 410 from webhook ${receiver.url}/gone`;
    expect(view).toMatchObject({ paused: true, pausedReason: reason });
    expect(view!.pausedAt).not.toBeNull();
    for (const id of [gone, slowGone]) {
      const d = await delivery(id);
      expect(d).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await attemptsOf(d.id)).toMatchObject([{ attempt: 1, outcome: 'paused', http_status: 410, error: 'HTTP 410 Gone: trigger paused' }]);
    }
    // Nothing more is sent while paused (well past a poll interval).
    await new Promise((r) => setTimeout(r, 400));
    expect(receiver.forTrigger('gone')).toHaveLength(3);
    expect((await delivery(queued)).status).toBe('pending');

    expect(logLines.filter((l) => l.trigger === 'gone' && l.reason === reason)).toHaveLength(1);
    expect(await pausesCounted('gone')).toBe(1);

    // An operator's pause on top keeps the first reason.
    expect(await pauseTrigger(db, 'gone')).toBe(true);
    expect((await loadTriggerViews(db, 'gone'))[0]).toMatchObject({ paused: true, pausedReason: reason });

    goneBack = true;
    expect(await resumeTrigger(db, 'gone')).toBe(true);
    expect((await loadTriggerViews(db, 'gone'))[0]).toMatchObject({ paused: false, pausedReason: null, pausedAt: null });
    for (const id of [gone, slowGone, queued]) expect((await settled(id, 'delivered')).attempts).toBe(1);
    // It continued where it stopped: the paused attempt, then attempt 1 again, delivered.
    expect((await attemptsOf((await delivery(gone)).id)).map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'paused'],
      [1, 'delivered'],
    ]);
  });

  it('with pauseOnGone false, 410 is retried like any other status', async () => {
    const d = await settled(await emit('gone-off'), 'delivered');
    expect(await attemptsOf(d.id)).toMatchObject([
      { attempt: 1, outcome: 'retry', http_status: 410, error: 'HTTP 410' },
      { attempt: 2, outcome: 'delivered' },
    ]);
    expect((await loadTriggerViews(db, 'gone-off'))[0]).toMatchObject({ paused: false, pausedReason: null });
  });

  it('a trigger declared like Hasura metadata (no permanent statuses, no pause) retries 422 until num_retries, then dead', async () => {
    const d = await settled(await emit('hasura-like'), 'dead');
    expect(d).toMatchObject({ attempts: 3, last_status: 422, last_error: 'HTTP 422' });
    expect((await attemptsOf(d.id)).map((a) => a.outcome)).toEqual(['retry', 'retry', 'dead']);
  });
});

describe('in-process outcomes: what a handler throws is read as the answer it stands for', () => {
  it('an error with status 422: dead at once', async () => {
    const d = await settled(await emit('ip-permanent'), 'dead');
    expect(d).toMatchObject({ attempts: 1, last_status: 422, last_error: 'HTTP 422 is a permanent status for this trigger' });
    const [attempt] = await attemptsOf(d.id);
    expect(attempt).toMatchObject({ outcome: 'dead', http_status: 422 });
    expect(JSON.parse(attempt!.response_body!)).toEqual({ error: 'this event can never be processed' });
    expect(handlerCalls.get('ip-permanent')).toBe(1);
  });

  it('status 503 with retryAfterSec: retried after that delay', async () => {
    const eventId = await emit('ip-retry-later');
    await waitFor('the first attempt written', async () => (await delivery(eventId)).attempts === 1);
    const waiting = await delivery(eventId);
    expect(waiting).toMatchObject({ status: 'pending', last_status: 503 });
    expect(waiting.delay_ms).toBeCloseTo(1000, 0);
    const d = await settled(eventId, 'delivered');
    const attempts = await attemptsOf(d.id);
    expect(attempts.map((a) => [a.outcome, a.http_status])).toEqual([
      ['retry', 503],
      ['delivered', 200],
    ]);
    expect(attempts[1]!.started_ms - attempts[0]!.started_ms).toBeGreaterThanOrEqual(1000);
  });

  it('a plain Error: retried', async () => {
    const d = await settled(await emit('ip-plain'), 'delivered');
    expect(await attemptsOf(d.id)).toMatchObject([
      { attempt: 1, outcome: 'retry', http_status: null, error: 'handler threw: boom' },
      { attempt: 2, outcome: 'delivered' },
    ]);
  });

  it('status 410: the trigger paused, then delivered on resume', async () => {
    const eventId = await emit('ip-gone');
    await waitFor('the trigger paused', async () => (await loadTriggerViews(db, 'ip-gone'))[0]!.paused);
    expect((await loadTriggerViews(db, 'ip-gone'))[0]).toMatchObject({ pausedReason: 'gone: HTTP 410 from in-process handler script' });
    await waitFor('the paused attempt written', async () => (await attemptsOf((await delivery(eventId)).id)).length === 1);
    expect(await delivery(eventId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await pausesCounted('ip-gone')).toBe(1);

    ipGoneBack = true;
    await resumeTrigger(db, 'ip-gone');
    expect((await settled(eventId, 'delivered')).attempts).toBe(1);
  });
});

describe("the kit's contract says what the dispatcher does", () => {
  it('one list of default permanent statuses, one rule', () => {
    expect(DEFAULT_PERMANENT_STATUSES).toBe(CONTRACT_PERMANENT);
    expect(outcomePolicy({ name: 'x', match: { kind: 'event', types: ['x'] }, target: { kind: 'inProcess', handler: 'x' } })).toEqual(DEFAULT_STATUS_POLICY);
    expect([200, 204, 410, 400, 413, 422, 401, 404, 408, 429, 500, 503, 302].map((s) => [s, statusOutcome(s)])).toEqual([
      [200, 'delivered'],
      [204, 'delivered'],
      [410, 'paused'],
      [400, 'dead'],
      [413, 'dead'],
      [422, 'dead'],
      [401, 'retry'],
      [404, 'retry'],
      [408, 'retry'],
      [429, 'retry'],
      [500, 'retry'],
      [503, 'retry'],
      [302, 'retry'],
    ]);
    expect(statusOutcome(410, { permanentStatuses: [], pauseOnGone: false })).toBe('retry');
    expect(statusOutcome(410, { permanentStatuses: [410], pauseOnGone: false })).toBe('dead');
    expect([401, 404, 503].every(isRetryableStatus)).toBe(true);
    expect([410, 422, 200].some(isRetryableStatus)).toBe(false);
    expect(new HandlerFailure('bad signature', 401).retryable).toBe(true);
    expect(new PermanentFailure('never').retryable).toBe(false);
  });
});
