/**
 * The operations console's GraphQL documents (admin only), typed by
 * graphql-codegen like ../operations.ts and collected into the
 * trusted-documents manifest by `npm run codegen`. They live beside the
 * console so its chunk carries them (the console is a chunk of its own,
 * served only with DEMO_CONSOLE on).
 */
import { graphql } from '../gql/index.js';

/** Pushed every second by the server (src/engine/realtime/deliveryStats.ts): the console never polls. */
export const DELIVERY_STATS_LIVE = graphql(`
  subscription DeliveryStatsLive {
    deliveryStats {
      at
      intervalMs
      windowMs
      queueDepth
      running
      dead
      triggers { trigger paused pausedReason pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms latencyMaxMs }
      samples { at attempts delivered failed throughputPerSec latencyP50Ms latencyP95Ms }
    }
  }
`);

/** Where the log ends now: the engine-event stream starts after it. */
export const LOG_HEAD = graphql(`
  query LogHead {
    events(first: 1, filter: { engineEvents: true }) { edges { node { cursor } } }
  }
`);

/**
 * What becomes of deliveries, as the engine writes it into the log
 * (src/engine/events/engineEvents.ts): the console re-reads a list when one
 * of these touches it, instead of polling it.
 */
export const ENGINE_EVENTS_LIVE = graphql(`
  subscription EngineEventsLive($after: String) {
    events(
      after: $after
      filter: {
        engineEvents: true
        types: [
          "threefactor.deliveries.progressed"
          "threefactor.deliveries.redelivered"
          "threefactor.deliveries.replayed"
          "threefactor.trigger.paused"
          "threefactor.trigger.resumed"
        ]
      }
    ) {
      id
      cursor
      type
      aggregateId
      payload
    }
  }
`);

export const DELIVERY_FIELDS = graphql(`
  fragment DeliveryFields on Delivery {
    id
    triggerName
    status
    source
    attemptCount
    maxAttempts
    lastHttpStatus
    lastError
    createdAt
    updatedAt
    completedAt
    event { id type aggregateType aggregateId cursor }
  }
`);

export const DEAD_LETTERS = graphql(`
  query DeadLetters {
    deliveries(first: 20, filter: { status: dead }) { edges { node { ...DeliveryFields } } }
  }
`);

export const TRIGGER_DELIVERIES = graphql(`
  query TriggerDeliveries($trigger: String!) {
    deliveries(first: 20, filter: { trigger: $trigger }) { edges { node { ...DeliveryFields } } }
  }
`);

export const DELIVERY_DETAIL = graphql(`
  query DeliveryDetail($id: ID!) {
    delivery(id: $id) {
      ...DeliveryFields
      runAt
      attempts { attempt outcome dispatcherId startedAt durationMs httpStatus responseBody error }
    }
  }
`);

export const REDELIVER = graphql(`
  mutation RedeliverDeliveries($ids: [ID!]!) {
    redeliverDeliveries(ids: $ids) { count skippedIds }
  }
`);

export const REDELIVER_DEAD = graphql(`
  mutation RedeliverDead($trigger: String!) {
    redeliverDead(trigger: $trigger) { count }
  }
`);

export const PAUSE_TRIGGER = graphql(`
  mutation PauseTrigger($name: String!) {
    pauseTrigger(name: $name) { name paused pausedReason }
  }
`);

export const RESUME_TRIGGER = graphql(`
  mutation ResumeTrigger($name: String!) {
    resumeTrigger(name: $name) { name paused pausedReason }
  }
`);

export const REPLAY_EVENTS = graphql(`
  mutation ReplayEvents($trigger: String!, $filter: ReplayFilter, $limit: Int) {
    replayEvents(trigger: $trigger, filter: $filter, limit: $limit) { count lastCursor complete }
  }
`);
