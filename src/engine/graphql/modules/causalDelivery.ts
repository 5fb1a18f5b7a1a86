/** `CausalDelivery`: one delivery of an event in a causal tree (graphql/modules/causalTree.ts). */
import { builder } from '../builder.js';
import { DeliveryStatusEnum } from './adminDeliveries.js';
import { CausalAttemptRef } from './causalAttempt.js';
import type { CausalDeliveryState, CausalDeliveryView } from './causalTreeAccess.js';

export const CausalDeliveryStateEnum = builder.enumType('CausalDeliveryState', {
  description:
    'pending (due, or waiting for a retry), running, paused (its trigger is paused: it waits, not settled), delivered or dead (a dead letter). delivered and dead are settled.',
  values: ['pending', 'running', 'paused', 'delivered', 'dead'] as const satisfies readonly CausalDeliveryState[],
});

export const CausalDeliveryRef = builder.objectRef<CausalDeliveryView>('CausalDelivery').implement({
  description: 'The delivery of one event of a causal tree to one trigger, with every attempt.',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeID('eventId', { description: 'The event delivered (one of the tree\u2019s events).' }),
    trigger: t.exposeString('trigger'),
    state: t.expose('state', { type: CausalDeliveryStateEnum }),
    status: t.expose('status', { type: DeliveryStatusEnum, description: 'The stored status (state is this, or paused).' }),
    settled: t.exposeBoolean('settled', { description: 'delivered or dead: it runs no more (unless an operator redelivers it).' }),
    attemptCount: t.exposeInt('attemptCount', { description: 'Attempts that ran to an outcome.' }),
    maxAttempts: t.exposeInt('maxAttempts'),
    runAt: t.expose('runAt', { type: 'DateTime', description: 'Not attempted before this time (retry backoff).' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    lastHttpStatus: t.exposeInt('lastStatus', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Admin and service only (null for others).' }),
    paused: t.exposeBoolean('paused', { description: 'Its trigger is paused.' }),
    pausedReason: t.exposeString('pausedReason', {
      nullable: true,
      description: 'Why its trigger is paused (manual, or gone: HTTP 410 from its target); others than admin and service see only the kind.',
    }),
    attempts: t.expose('attempts', { type: [CausalAttemptRef], description: 'Every attempt, oldest first.' }),
  }),
});
