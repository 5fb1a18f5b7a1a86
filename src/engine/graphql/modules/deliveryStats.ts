/**
 * Admin: the `deliveryStats` subscription, the operations console's live
 * numbers: per trigger its queue (pending, running, dead), pause state, what
 * it delivered and failed over the last minute and its latency, plus the
 * throughput and latency series the console charts. The server computes them
 * on its own timer, one read per tick for every subscriber in the process
 * (realtime/deliveryStats.ts), and pushes each tick: nothing polls.
 */
import { DELIVERY_STATS_KIND, subscribeDeliveryStats, type DeliveryStatsSample, type DeliveryStatsSnapshot, type TriggerStats } from '../../realtime/deliveryStats.js';
import { unwrapDelivery, type Delivery } from '../../realtime/delivery.js';
import { builder } from '../builder.js';

const SampleRef = builder.objectRef<DeliveryStatsSample>('DeliveryStatsSample').implement({
  description: 'One tick of the delivery stats: the attempts logged in it, over every trigger.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    attempts: t.exposeInt('attempts'),
    delivered: t.exposeInt('delivered'),
    failed: t.exposeInt('failed', { description: 'Attempts that did not deliver (retry, dead, paused).' }),
    throughputPerSec: t.exposeFloat('throughputPerSec', { description: 'Attempts per second in this tick.' }),
    latencyP50Ms: t.exposeInt('p50Ms', { nullable: true, description: 'Median attempt duration; null without attempts.' }),
    latencyP95Ms: t.exposeInt('p95Ms', { nullable: true }),
  }),
});

const TriggerStatsRef = builder.objectRef<TriggerStats>('TriggerDeliveryStats').implement({
  description: 'One trigger in the delivery stats.',
  fields: (t) => ({
    trigger: t.exposeString('trigger'),
    paused: t.exposeBoolean('paused', { description: 'Its deliveries queue but are not sent until resumed.' }),
    pausedReason: t.exposeString('pausedReason', { nullable: true }),
    pending: t.exposeInt('pending', { description: 'Queue depth: deliveries due or waiting for a retry.' }),
    running: t.exposeInt('running', { description: 'In flight: being attempted now.' }),
    dead: t.exposeInt('dead', { description: 'Dead letters.' }),
    delivered: t.exposeInt('delivered', { description: 'Attempts delivered over the window (DeliveryStats.windowMs).' }),
    failed: t.exposeInt('failed', { description: 'Attempts that did not deliver over the window.' }),
    attempts: t.exposeInt('attempts', { description: 'Attempts in the last tick.' }),
    throughputPerSec: t.exposeFloat('throughputPerSec', { description: 'Attempts per second in the last tick.' }),
    latencyP50Ms: t.exposeInt('p50Ms', { nullable: true, description: 'Median attempt duration in the last tick; null without attempts.' }),
    latencyP95Ms: t.exposeInt('p95Ms', { nullable: true }),
    latencyMaxMs: t.exposeInt('maxMs', { nullable: true }),
  }),
});

const DeliveryStatsRef = builder.objectRef<DeliveryStatsSnapshot>('DeliveryStats').implement({
  description: 'The delivery queues and their throughput and latency, as of one tick.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    intervalMs: t.exposeInt('intervalMs', { description: 'Time between ticks.' }),
    windowMs: t.exposeInt('windowMs', { description: 'What samples and the per-trigger delivered / failed cover (at most a minute; less right after the first subscriber came).' }),
    queueDepth: t.exposeInt('queueDepth', { description: 'Pending deliveries over every trigger.' }),
    running: t.exposeInt('running'),
    dead: t.exposeInt('dead'),
    triggers: t.expose('triggers', { type: [TriggerStatsRef], description: 'Every trigger, by name.' }),
    samples: t.expose('samples', { type: [SampleRef], description: 'One per tick over the window, oldest first: the charts.' }),
  }),
});

builder.subscriptionField('deliveryStats', (t) =>
  t.field({
    type: DeliveryStatsRef,
    description:
      'The delivery queues per trigger and the throughput and latency of the last minute, pushed every second: one read per tick for every subscriber in the process. Admin only.',
    authScopes: { role: 'admin' },
    // No arguments, and every admin sees the same numbers: identical subscriptions of one viewer may share an execution.
    extensions: { realtimeShare: 'latest' },
    subscribe: (_root, _args, ctx) => subscribeDeliveryStats(ctx.realtime),
    resolve: (delivery: Delivery<DeliveryStatsSnapshot>) => unwrapDelivery(delivery, DELIVERY_STATS_KIND),
  }),
);
