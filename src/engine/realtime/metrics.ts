/**
 * Realtime instruments, registered in the process registry served at
 * /metrics: how many subscribers, how fast an event reaches them (from the
 * event's creation to the message being handed to the transport), how the
 * hub's tail is doing, and how often slow consumers are coalesced or cut off.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../server/metrics.js';

export const subscribers = new Gauge({
  name: 'threefactor_realtime_subscribers',
  help: 'GraphQL subscription executions fed by the realtime hub, by kind (identical WebSocket subscriptions share one)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const sharedSubscribers = new Gauge({
  name: 'threefactor_realtime_shared_subscribers',
  help: 'WebSocket subscribers of shareable live fields (solo or in a shared execution), by field',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const deliverySeconds = new Histogram({
  name: 'threefactor_realtime_delivery_seconds',
  help: "Time from an event's creation (its transaction's start) to its message being handed to the transport",
  labelNames: ['kind'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const hubTopics = new Gauge({
  name: 'threefactor_realtime_topics',
  help: 'In-memory topics with at least one listener',
  registers: [registry],
});

export const hubReads = new Counter({
  name: 'threefactor_realtime_hub_reads_total',
  help: 'Tail reads of the event log by the hub, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const hubEvents = new Counter({
  name: 'threefactor_realtime_hub_events_total',
  help: 'Events read from the log and fanned out by the hub',
  registers: [registry],
});

export const listenConnects = new Counter({
  name: 'threefactor_realtime_listen_connects_total',
  help: 'LISTEN (re)connections of the hub; each one is followed by a catch-up read',
  registers: [registry],
});

export const stateReads = new Counter({
  name: 'threefactor_realtime_state_reads_total',
  help: 'Batched re-reads of changed state for live subscriptions (one per hub tick, however many subscribers), by the rows read',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const slowConsumers = new Counter({
  name: 'threefactor_realtime_slow_consumer_total',
  help: 'Slow subscribers: live-state values replaced by newer ones (coalesced) or streams closed over their bound (closed)',
  labelNames: ['action'] as const,
  registers: [registry],
});
