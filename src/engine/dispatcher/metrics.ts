/**
 * Event-delivery metrics, on the process registry (src/server/metrics.ts),
 * so they appear on whichever /metrics the process serves (the API's, or the
 * dispatcher's startMetricsServer).
 *
 * Two sources:
 * - the dispatcher's outcome hook (deliveryMetricsHooks, passed as
 *   `hooks` to startDispatcher): counters and histograms of what this
 *   process delivered;
 * - the database, read on scrape with one grouped query (watchDeliveryQueues):
 *   gauges of the queues as they are, whoever fills or drains them, at most
 *   QUEUE_GAUGES_MAX_AGE_MS old (a read serves every scrape within that
 *   time, so scrapes cannot load the database). Every process that watches
 *   reports the same database-wide values, so aggregate them with max(), not
 *   sum().
 *
 * Series:
 * - threefactor_delivery_queue_depth{trigger}       gauge, pending deliveries (retries waiting included)
 * - threefactor_delivery_in_flight{trigger}         gauge, deliveries leased by a dispatcher
 * - threefactor_delivery_dead_letters{trigger}      gauge, dead deliveries now (the dead-letter queue)
 * - threefactor_deliveries_total{trigger,outcome}   counter, delivered | retrying | dead | paused;
 *                                                   outcome="dead" is the dead-letter counter, "paused"
 *                                                   an attempt answered 410 Gone (it waits, uncounted)
 * - threefactor_trigger_pauses_total{trigger}       counter, triggers this process paused on a 410 Gone
 * - threefactor_delivery_attempts_total{trigger,result}  counter, success | failure | released
 *                                                   (released: interrupted by a drain, not counted)
 * - threefactor_delivery_attempt_seconds{trigger}   histogram, duration of an attempt
 * - threefactor_delivery_latency_seconds{trigger}   histogram, event created_at → first attempt's start
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { errorMessage } from '../lib.js';
import type { Logger } from '../log.js';
import { registry } from '../server/metrics.js';
import type { DeliveryOutcomeKind, DispatcherHooks, OutcomeDetail } from './dispatcher.js';
import { countDeliveries, type TriggerDeliveryCounts } from '../events/sql/countDeliveries.js';
import type { Queryable } from '../events/sql/queryable.js';

/**
 * What the latency histogram needs beyond the hook's (trigger, outcome, ms).
 * The dispatcher passes it as a fourth argument; until it does, only the
 * counters and the attempt-duration histogram are recorded.
 */

const queueDepth = new Gauge({
  name: 'threefactor_delivery_queue_depth',
  help: 'Pending deliveries per trigger (due now or waiting for a retry), read from the database on scrape',
  labelNames: ['trigger'] as const,
  registers: [registry],
  collect: () => refresh(),
});

const inFlight = new Gauge({
  name: 'threefactor_delivery_in_flight',
  help: 'Deliveries leased by a dispatcher right now, per trigger, read from the database on scrape',
  labelNames: ['trigger'] as const,
  registers: [registry],
  collect: () => refresh(),
});

const deadLetters = new Gauge({
  name: 'threefactor_delivery_dead_letters',
  help: 'Dead deliveries (the dead-letter queue) per trigger, read from the database on scrape',
  labelNames: ['trigger'] as const,
  registers: [registry],
  collect: () => refresh(),
});

const deliveries = new Counter({
  name: 'threefactor_deliveries_total',
  help: 'Delivery outcomes decided by this process: delivered, retrying (failed, will retry), dead (a permanent status, or retries exhausted) or paused (410 Gone: waits for the trigger to be resumed)',
  labelNames: ['trigger', 'outcome'] as const,
  registers: [registry],
});

const attempts = new Counter({
  name: 'threefactor_delivery_attempts_total',
  help: 'Delivery attempts run by this process: success (2xx), failure, or released (interrupted by a drain, not counted)',
  labelNames: ['trigger', 'result'] as const,
  registers: [registry],
});

const triggerPauses = new Counter({
  name: 'threefactor_trigger_pauses_total',
  help: 'Triggers this process paused because their target answered 410 Gone (once per pause; resume with resumeTrigger)',
  labelNames: ['trigger'] as const,
  registers: [registry],
});

const attemptSeconds = new Histogram({
  name: 'threefactor_delivery_attempt_seconds',
  help: 'Duration of one delivery attempt (HTTP call or in-process handler run)',
  labelNames: ['trigger'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

const latencySeconds = new Histogram({
  name: 'threefactor_delivery_latency_seconds',
  help: "From an event's created_at to the start of its first delivery attempt (routed deliveries only)",
  labelNames: ['trigger'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

const OUTCOME: Record<Exclude<DeliveryOutcomeKind, 'released'>, 'delivered' | 'retrying' | 'dead' | 'paused'> = {
  delivered: 'delivered',
  retry: 'retrying',
  dead: 'dead',
  paused: 'paused',
};

/** Records one outcome reported by the dispatcher. */
export function recordOutcome(trigger: string, outcome: DeliveryOutcomeKind, durationMs: number, detail?: OutcomeDetail): void {
  if (outcome === 'released') {
    attempts.inc({ trigger, result: 'released' });
    return;
  }
  deliveries.inc({ trigger, outcome: OUTCOME[outcome] });
  attempts.inc({ trigger, result: outcome === 'delivered' ? 'success' : 'failure' });
  attemptSeconds.observe({ trigger }, durationMs / 1000);
  // Later attempts wait for their backoff, and replayed or manual deliveries
  // of old events were never "late": neither measures the pipeline.
  if (detail && detail.attempt === 1 && detail.source === 'event') {
    const created = typeof detail.eventCreatedAt === 'string' ? Date.parse(detail.eventCreatedAt) : detail.eventCreatedAt.getTime();
    if (Number.isFinite(created)) latencySeconds.observe({ trigger }, Math.max(0, detail.startedAt.getTime() - created) / 1000);
  }
}

/** Records a trigger this process paused on a 410 Gone. */
export function recordTriggerPaused(trigger: string): void {
  triggerPauses.inc({ trigger });
}

/** The hooks to pass to startDispatcher so its outcomes and pauses are counted. */
export function deliveryMetricsHooks(): DispatcherHooks {
  return { onOutcome: recordOutcome, onTriggerPaused: recordTriggerPaused };
}

interface Source {
  sql: Queryable;
  log?: Logger | undefined;
  /** The last read of this database (an empty list when it failed), and when it started. */
  last?: { at: number; rows: TriggerDeliveryCounts[] };
}

/** Databases being watched; the latest registration is read (a process has one). */
const sources: Source[] = [];
/** One query per scrape: the three gauges' collect() calls share it. */
let inflight: Promise<void> | null = null;

const SCRAPE_QUERY_TIMEOUT_MS = 2_000;
/** A read serves the scrapes of this long: Prometheus scrapes every 15 s or more, anyone else is not worth a query. */
export const QUEUE_GAUGES_MAX_AGE_MS = 5_000;

/**
 * Reads the queue gauges from this database at scrapes, at most once per
 * QUEUE_GAUGES_MAX_AGE_MS. Returns the function that stops it (call it
 * before closing the database).
 */
export function watchDeliveryQueues(sql: Queryable, log?: Logger): () => void {
  const source: Source = { sql, log: log?.child({ component: 'delivery-metrics' }) };
  sources.push(source);
  return () => {
    const i = sources.indexOf(source);
    if (i >= 0) sources.splice(i, 1);
  };
}

function refresh(): Promise<void> {
  inflight ??= read().finally(() => {
    inflight = null;
  });
  return inflight;
}

async function read(): Promise<void> {
  const source = sources.at(-1);
  let rows: TriggerDeliveryCounts[] = [];
  if (source?.last && Date.now() - source.last.at < QUEUE_GAUGES_MAX_AGE_MS) {
    rows = source.last.rows;
  } else if (source) {
    const at = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      rows = await Promise.race([
        countDeliveries(source.sql),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${SCRAPE_QUERY_TIMEOUT_MS} ms`)), SCRAPE_QUERY_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      // A scrape must still answer (the counters are valid); the gauges are left out rather than stale.
      source.log?.warn({ err: errorMessage(err) }, 'could not read delivery queue depths');
      rows = [];
    } finally {
      clearTimeout(timer);
    }
    // A failed read is kept too: a struggling database is not asked again at every scrape.
    source.last = { at, rows };
  }
  // Reset first: a deleted trigger's series disappears instead of freezing at its last value.
  queueDepth.reset();
  inFlight.reset();
  deadLetters.reset();
  for (const r of rows) {
    queueDepth.set({ trigger: r.trigger }, r.pending);
    inFlight.set({ trigger: r.trigger }, r.running);
    deadLetters.set({ trigger: r.trigger }, r.dead);
  }
}
