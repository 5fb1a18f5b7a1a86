/**
 * The `delivery` scenario's workload and the protocol of its queue children
 * (bench/lib/dispatcherChild.ts, bench/lib/graphileChild.ts): the event both
 * queues carry, the triggers and tasks that consume it, and the messages a
 * child exchanges with the scenario. Both children speak the same protocol,
 * so the scenario drives either side with the same code.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ClaimedEvent } from '../../src/engine/events/sql/claimDeliveries.js';
import type { TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';

/** What is being delivered: a no-op in the consumer's process, or a webhook POST to the receiver. */
export type DeliveryJob = 'noop' | 'http';

/** Event types (ours) and task identifiers (graphile-worker), one per job kind. */
export const EVENT_TYPE: Record<DeliveryJob, string> = { noop: 'bench.noop', http: 'bench.http' };
export const TASK: Record<DeliveryJob, string> = { noop: 'bench_noop', http: 'bench_http' };
export const TRIGGER: Record<DeliveryJob, string> = { noop: 'bench-noop', http: 'bench-http' };
export const NOOP_HANDLER = 'benchNoop';

/** Both triggers: the scenario syncs them before writing a backlog (routing needs them), the dispatcher at start. */
export function benchTriggers(receiverUrl: string): TriggerDefinition[] {
  return [
    { name: TRIGGER.noop, match: { kind: 'event', types: [EVENT_TYPE.noop] }, target: { kind: 'inProcess', handler: NOOP_HANDLER } },
    { name: TRIGGER.http, match: { kind: 'event', types: [EVENT_TYPE.http] }, target: { kind: 'webhook', url: receiverUrl } },
  ];
}

/**
 * The isolation measurement: two webhook triggers on the receiver, neither
 * with a cap (no `concurrency`, no `ratePerSecond`). `hung`'s requests are
 * held by the receiver until the scenario releases them (its timeout is far
 * beyond any measured window, so they hold their slots throughout; no retry,
 * so a timed-out one would not come back); `steady` is a no-op POST whose
 * arrival the receiver timestamps.
 */
export const ISOLATION = {
  hung: { trigger: 'bench-hung', type: 'bench.hung', path: '/hang' },
  steady: { trigger: 'bench-steady', type: 'bench.steady', path: '/steady' },
} as const;
export const HUNG_TIMEOUT_SEC = 600;

/** Which triggers a dispatcher child declares: the throughput and latency ones, or the isolation pair. */
export type TriggerSet = 'bench' | 'isolation';

export function isolationTriggers(receiverUrl: string): TriggerDefinition[] {
  const at = (p: string) => new URL(p, receiverUrl).toString();
  return [
    {
      name: ISOLATION.hung.trigger,
      match: { kind: 'event', types: [ISOLATION.hung.type] },
      target: { kind: 'webhook', url: at(ISOLATION.hung.path) },
      retry: { numRetries: 0, timeoutSec: HUNG_TIMEOUT_SEC },
    },
    { name: ISOLATION.steady.trigger, match: { kind: 'event', types: [ISOLATION.steady.type] }, target: { kind: 'webhook', url: at(ISOLATION.steady.path) } },
  ];
}

export function triggerSet(set: TriggerSet, receiverUrl: string): TriggerDefinition[] {
  return set === 'isolation' ? isolationTriggers(receiverUrl) : benchTriggers(receiverUrl);
}

/** An order.placed-sized payload (≈ 450 bytes of JSON), different for every event. */
export function orderPayload(n: number): Record<string, unknown> {
  return {
    orderId: randomUUID(),
    status: 'placed',
    version: 1,
    customerId: randomUUID(),
    restaurantId: randomUUID(),
    driverId: null,
    totalCents: 1000 + (n % 5000),
    deliveryAddress: `${n} Benchmark Row`,
    items: [
      { menuItemId: randomUUID(), quantity: 1 + (n % 3), unitPriceCents: 1250 },
      { menuItemId: randomUUID(), quantity: 1, unitPriceCents: 800 },
    ],
  };
}

export const SESSION = { 'x-hasura-role': 'customer', 'x-hasura-user-id': '00000000-0000-4000-8000-000000000001' };
export const TRACE = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

/**
 * A graphile-worker job carries what our claim reads from the event row, so
 * both queues move the same bytes and the baseline's HTTP task can build the
 * same webhook body.
 */
export type JobPayload = ClaimedEvent;

export function jobPayload(job: DeliveryJob, n: number): JobPayload {
  return {
    id: randomUUID(),
    type: EVENT_TYPE[job],
    aggregateType: 'order',
    aggregateId: randomUUID(),
    payload: orderPayload(n),
    session: SESSION,
    traceContext: TRACE,
    createdAt: new Date().toISOString(),
  };
}

/**
 * graphile-worker's two configurations, measured side by side.
 * - `unbatched`: its defaults (each worker fetches and completes one job per
 *   query).
 * - `batched`: its performance page's and perf test's batching options: a
 *   local queue of 500 jobs fetched at once, and completions (and failures)
 *   batched with a delay of 0 ms. Its perf test also sets
 *   `localQueue.refetchDelay` (10 ms); that option trades latency for
 *   database load when the queue runs dry, and the performance page leaves it
 *   out, so it is left out here: the baseline keeps its best latency.
 */
/** The graphile-worker installed (package.json pins it): what the record names, never a figure typed by hand. */
export const GRAPHILE_VERSION = (createRequire(import.meta.url)('graphile-worker/package.json') as { version: string }).version;

export const GRAPHILE_VARIANTS = {
  unbatched: { localQueue: { size: -1 }, completeJobBatchDelay: -1, failJobBatchDelay: -1 },
  batched: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
} as const;
export type GraphileVariant = keyof typeof GRAPHILE_VARIANTS;

/** A queue child's numeric setting from its environment; the scenario always sets it, so a missing one is a bug. */
export function positiveIntegerEnv(name: string): number {
  const n = Number(process.env[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be set to a positive integer (got ${JSON.stringify(process.env[name])})`);
  return n;
}

/** Scenario → queue child. `variant`: which graphile-worker configuration (the graphile-worker child only). */
export type QueueChildIn =
  /** Start the consumer, wait until `expected` jobs are done and recorded, stop it. */
  | { type: 'drain'; job: DeliveryJob; expected: number; receiverUrl: string; variant?: GraphileVariant; /** Write a CPU profile of the drain here. */ profile?: string }
  /**
   * Start the consumer in latency mode: every no-op job reports its start
   * time. `triggers` (the dispatcher child only): which set it declares,
   * `bench` by default.
   */
  | { type: 'serve'; receiverUrl: string; triggers?: TriggerSet; variant?: GraphileVariant }
  | { type: 'halt' };

/** Queue child → scenario. */
export type QueueChildOut =
  | { type: 'ready' }
  | {
      type: 'drained';
      /** Start of the consumer to the last completion recorded in the database. */
      ms: number;
      /** Jobs that succeeded (handler or HTTP 2xx). */
      succeeded: number;
      /** Failed attempts (should be none). */
      failed: number;
      /** The child's CPU over the drain, in cores. */
      cores: number;
      /** When the last job finished, ms after the start (the rest is the completion write). */
      lastJobMs: number;
    }
  | { type: 'serving' }
  /** A no-op job started (latency mode): process.hrtime.bigint(), comparable across processes on this machine. */
  | { type: 'handled'; atNs: bigint }
  | { type: 'halted' };

/** How often a draining child polls for unfinished work once every job has run (the end of a drain is recorded within this). */
export const DRAIN_POLL_MS = 2;

/** Polls `unfinished` until it returns 0. */
export async function untilNoneUnfinished(unfinished: () => Promise<number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await unfinished()) > 0) {
    if (Date.now() > deadline) throw new Error(`work still unfinished after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
