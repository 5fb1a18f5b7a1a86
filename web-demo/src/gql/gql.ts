/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment OrderFields on Order {\n    id\n    status\n    version\n    totalCents\n    deliveryAddress\n    statusReason\n    createdAt\n    restaurant { id name }\n    driver { id name }\n    items { name quantity unitPriceCents }\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  query Restaurants {\n    restaurants { id name cuisine menu { id name description priceCents available } }\n  }\n": typeof types.RestaurantsDocument,
    "\n  query MyLatestOrder {\n    myOrders(first: 1) { edges { node { ...OrderFields } } }\n  }\n": typeof types.MyLatestOrderDocument,
    "\n  query RestaurantOrders {\n    restaurantOrders(first: 15) { edges { node { ...OrderFields } } }\n  }\n": typeof types.RestaurantOrdersDocument,
    "\n  query DriverJobs {\n    driverJobs(first: 15) { edges { node { ...OrderFields } } }\n  }\n": typeof types.DriverJobsDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { ...OrderFields }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  mutation PayOrder($orderId: ID!) {\n    payOrder(orderId: $orderId) { id status amountCents }\n  }\n": typeof types.PayOrderDocument,
    "\n  mutation ApproveOrder($orderId: ID!) {\n    approveOrder(orderId: $orderId) { ...OrderFields }\n  }\n": typeof types.ApproveOrderDocument,
    "\n  mutation DeclineOrder($orderId: ID!, $reason: String!) {\n    declineOrder(orderId: $orderId, reason: $reason) { ...OrderFields }\n  }\n": typeof types.DeclineOrderDocument,
    "\n  mutation CancelOrder($orderId: ID!) {\n    cancelOrder(orderId: $orderId) { ...OrderFields }\n  }\n": typeof types.CancelOrderDocument,
    "\n  mutation PickUpOrder($orderId: ID!) {\n    pickUpOrder(orderId: $orderId) { ...OrderFields }\n  }\n": typeof types.PickUpOrderDocument,
    "\n  mutation DeliverOrder($orderId: ID!) {\n    deliverOrder(orderId: $orderId) { ...OrderFields }\n  }\n": typeof types.DeliverOrderDocument,
    "\n  subscription OrderLive($id: ID!, $afterVersion: Int) {\n    order(id: $id, afterVersion: $afterVersion) { ...OrderFields }\n  }\n": typeof types.OrderLiveDocument,
    "\n  subscription RestaurantOrdersLive {\n    restaurantOrders { ...OrderFields }\n  }\n": typeof types.RestaurantOrdersLiveDocument,
    "\n  subscription DriverJobsLive {\n    driverJobs { ...OrderFields }\n  }\n": typeof types.DriverJobsLiveDocument,
    "\n  fragment EventFields on Event {\n    id\n    cursor\n    type\n    aggregateType\n    aggregateId\n    payload\n    session\n    createdAt\n    deliveries { id triggerName }\n  }\n": typeof types.EventFieldsFragmentDoc,
    "\n  query RecentEvents($first: Int!) {\n    events(first: $first) { edges { node { ...EventFields } } }\n  }\n": typeof types.RecentEventsDocument,
    "\n  subscription EventsLive($after: String) {\n    events(after: $after) { ...EventFields }\n  }\n": typeof types.EventsLiveDocument,
    "\n  fragment CausalTreeFields on CausalTree {\n    rootId\n    settled\n    failed\n    pending\n    truncated\n    events { id type depth createdAt causedByDelivery aggregateType aggregateId }\n    deliveries {\n      id\n      eventId\n      trigger\n      state\n      attemptCount\n      maxAttempts\n      lastHttpStatus\n      lastError\n      pausedReason\n      attempts { attempt outcome durationMs httpStatus startedAt }\n    }\n  }\n": typeof types.CausalTreeFieldsFragmentDoc,
    "\n  subscription CausalTreeLive($eventId: ID!) {\n    causalTree(eventId: $eventId) { ...CausalTreeFields }\n  }\n": typeof types.CausalTreeLiveDocument,
    "\n  subscription DeliveryStatsLive {\n    deliveryStats {\n      at\n      intervalMs\n      windowMs\n      queueDepth\n      running\n      dead\n      triggers { trigger paused pausedReason pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms latencyMaxMs }\n      samples { at attempts delivered failed throughputPerSec latencyP50Ms latencyP95Ms }\n    }\n  }\n": typeof types.DeliveryStatsLiveDocument,
    "\n  query LogHead {\n    events(first: 1, filter: { engineEvents: true }) { edges { node { cursor } } }\n  }\n": typeof types.LogHeadDocument,
    "\n  subscription EngineEventsLive($after: String) {\n    events(\n      after: $after\n      filter: {\n        engineEvents: true\n        types: [\n          \"threefactor.deliveries.progressed\"\n          \"threefactor.deliveries.redelivered\"\n          \"threefactor.deliveries.replayed\"\n          \"threefactor.trigger.paused\"\n          \"threefactor.trigger.resumed\"\n        ]\n      }\n    ) {\n      id\n      cursor\n      type\n      aggregateId\n      payload\n    }\n  }\n": typeof types.EngineEventsLiveDocument,
    "\n  fragment DeliveryFields on Delivery {\n    id\n    triggerName\n    status\n    source\n    attemptCount\n    maxAttempts\n    lastHttpStatus\n    lastError\n    createdAt\n    updatedAt\n    completedAt\n    event { id type aggregateType aggregateId cursor }\n  }\n": typeof types.DeliveryFieldsFragmentDoc,
    "\n  query DeadLetters {\n    deliveries(first: 20, filter: { status: dead }) { edges { node { ...DeliveryFields } } }\n  }\n": typeof types.DeadLettersDocument,
    "\n  query TriggerDeliveries($trigger: String!) {\n    deliveries(first: 20, filter: { trigger: $trigger }) { edges { node { ...DeliveryFields } } }\n  }\n": typeof types.TriggerDeliveriesDocument,
    "\n  query DeliveryDetail($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryFields\n      runAt\n      attempts { attempt outcome dispatcherId startedAt durationMs httpStatus responseBody error }\n    }\n  }\n": typeof types.DeliveryDetailDocument,
    "\n  mutation RedeliverDeliveries($ids: [ID!]!) {\n    redeliverDeliveries(ids: $ids) { count skippedIds }\n  }\n": typeof types.RedeliverDeliveriesDocument,
    "\n  mutation RedeliverDead($trigger: String!) {\n    redeliverDead(trigger: $trigger) { count }\n  }\n": typeof types.RedeliverDeadDocument,
    "\n  mutation PauseTrigger($name: String!) {\n    pauseTrigger(name: $name) { name paused pausedReason }\n  }\n": typeof types.PauseTriggerDocument,
    "\n  mutation ResumeTrigger($name: String!) {\n    resumeTrigger(name: $name) { name paused pausedReason }\n  }\n": typeof types.ResumeTriggerDocument,
    "\n  mutation ReplayEvents($trigger: String!, $filter: ReplayFilter, $limit: Int) {\n    replayEvents(trigger: $trigger, filter: $filter, limit: $limit) { count lastCursor complete }\n  }\n": typeof types.ReplayEventsDocument,
};
const documents: Documents = {
    "\n  fragment OrderFields on Order {\n    id\n    status\n    version\n    totalCents\n    deliveryAddress\n    statusReason\n    createdAt\n    restaurant { id name }\n    driver { id name }\n    items { name quantity unitPriceCents }\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  query Restaurants {\n    restaurants { id name cuisine menu { id name description priceCents available } }\n  }\n": types.RestaurantsDocument,
    "\n  query MyLatestOrder {\n    myOrders(first: 1) { edges { node { ...OrderFields } } }\n  }\n": types.MyLatestOrderDocument,
    "\n  query RestaurantOrders {\n    restaurantOrders(first: 15) { edges { node { ...OrderFields } } }\n  }\n": types.RestaurantOrdersDocument,
    "\n  query DriverJobs {\n    driverJobs(first: 15) { edges { node { ...OrderFields } } }\n  }\n": types.DriverJobsDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { ...OrderFields }\n  }\n": types.PlaceOrderDocument,
    "\n  mutation PayOrder($orderId: ID!) {\n    payOrder(orderId: $orderId) { id status amountCents }\n  }\n": types.PayOrderDocument,
    "\n  mutation ApproveOrder($orderId: ID!) {\n    approveOrder(orderId: $orderId) { ...OrderFields }\n  }\n": types.ApproveOrderDocument,
    "\n  mutation DeclineOrder($orderId: ID!, $reason: String!) {\n    declineOrder(orderId: $orderId, reason: $reason) { ...OrderFields }\n  }\n": types.DeclineOrderDocument,
    "\n  mutation CancelOrder($orderId: ID!) {\n    cancelOrder(orderId: $orderId) { ...OrderFields }\n  }\n": types.CancelOrderDocument,
    "\n  mutation PickUpOrder($orderId: ID!) {\n    pickUpOrder(orderId: $orderId) { ...OrderFields }\n  }\n": types.PickUpOrderDocument,
    "\n  mutation DeliverOrder($orderId: ID!) {\n    deliverOrder(orderId: $orderId) { ...OrderFields }\n  }\n": types.DeliverOrderDocument,
    "\n  subscription OrderLive($id: ID!, $afterVersion: Int) {\n    order(id: $id, afterVersion: $afterVersion) { ...OrderFields }\n  }\n": types.OrderLiveDocument,
    "\n  subscription RestaurantOrdersLive {\n    restaurantOrders { ...OrderFields }\n  }\n": types.RestaurantOrdersLiveDocument,
    "\n  subscription DriverJobsLive {\n    driverJobs { ...OrderFields }\n  }\n": types.DriverJobsLiveDocument,
    "\n  fragment EventFields on Event {\n    id\n    cursor\n    type\n    aggregateType\n    aggregateId\n    payload\n    session\n    createdAt\n    deliveries { id triggerName }\n  }\n": types.EventFieldsFragmentDoc,
    "\n  query RecentEvents($first: Int!) {\n    events(first: $first) { edges { node { ...EventFields } } }\n  }\n": types.RecentEventsDocument,
    "\n  subscription EventsLive($after: String) {\n    events(after: $after) { ...EventFields }\n  }\n": types.EventsLiveDocument,
    "\n  fragment CausalTreeFields on CausalTree {\n    rootId\n    settled\n    failed\n    pending\n    truncated\n    events { id type depth createdAt causedByDelivery aggregateType aggregateId }\n    deliveries {\n      id\n      eventId\n      trigger\n      state\n      attemptCount\n      maxAttempts\n      lastHttpStatus\n      lastError\n      pausedReason\n      attempts { attempt outcome durationMs httpStatus startedAt }\n    }\n  }\n": types.CausalTreeFieldsFragmentDoc,
    "\n  subscription CausalTreeLive($eventId: ID!) {\n    causalTree(eventId: $eventId) { ...CausalTreeFields }\n  }\n": types.CausalTreeLiveDocument,
    "\n  subscription DeliveryStatsLive {\n    deliveryStats {\n      at\n      intervalMs\n      windowMs\n      queueDepth\n      running\n      dead\n      triggers { trigger paused pausedReason pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms latencyMaxMs }\n      samples { at attempts delivered failed throughputPerSec latencyP50Ms latencyP95Ms }\n    }\n  }\n": types.DeliveryStatsLiveDocument,
    "\n  query LogHead {\n    events(first: 1, filter: { engineEvents: true }) { edges { node { cursor } } }\n  }\n": types.LogHeadDocument,
    "\n  subscription EngineEventsLive($after: String) {\n    events(\n      after: $after\n      filter: {\n        engineEvents: true\n        types: [\n          \"threefactor.deliveries.progressed\"\n          \"threefactor.deliveries.redelivered\"\n          \"threefactor.deliveries.replayed\"\n          \"threefactor.trigger.paused\"\n          \"threefactor.trigger.resumed\"\n        ]\n      }\n    ) {\n      id\n      cursor\n      type\n      aggregateId\n      payload\n    }\n  }\n": types.EngineEventsLiveDocument,
    "\n  fragment DeliveryFields on Delivery {\n    id\n    triggerName\n    status\n    source\n    attemptCount\n    maxAttempts\n    lastHttpStatus\n    lastError\n    createdAt\n    updatedAt\n    completedAt\n    event { id type aggregateType aggregateId cursor }\n  }\n": types.DeliveryFieldsFragmentDoc,
    "\n  query DeadLetters {\n    deliveries(first: 20, filter: { status: dead }) { edges { node { ...DeliveryFields } } }\n  }\n": types.DeadLettersDocument,
    "\n  query TriggerDeliveries($trigger: String!) {\n    deliveries(first: 20, filter: { trigger: $trigger }) { edges { node { ...DeliveryFields } } }\n  }\n": types.TriggerDeliveriesDocument,
    "\n  query DeliveryDetail($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryFields\n      runAt\n      attempts { attempt outcome dispatcherId startedAt durationMs httpStatus responseBody error }\n    }\n  }\n": types.DeliveryDetailDocument,
    "\n  mutation RedeliverDeliveries($ids: [ID!]!) {\n    redeliverDeliveries(ids: $ids) { count skippedIds }\n  }\n": types.RedeliverDeliveriesDocument,
    "\n  mutation RedeliverDead($trigger: String!) {\n    redeliverDead(trigger: $trigger) { count }\n  }\n": types.RedeliverDeadDocument,
    "\n  mutation PauseTrigger($name: String!) {\n    pauseTrigger(name: $name) { name paused pausedReason }\n  }\n": types.PauseTriggerDocument,
    "\n  mutation ResumeTrigger($name: String!) {\n    resumeTrigger(name: $name) { name paused pausedReason }\n  }\n": types.ResumeTriggerDocument,
    "\n  mutation ReplayEvents($trigger: String!, $filter: ReplayFilter, $limit: Int) {\n    replayEvents(trigger: $trigger, filter: $filter, limit: $limit) { count lastCursor complete }\n  }\n": types.ReplayEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    status\n    version\n    totalCents\n    deliveryAddress\n    statusReason\n    createdAt\n    restaurant { id name }\n    driver { id name }\n    items { name quantity unitPriceCents }\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    status\n    version\n    totalCents\n    deliveryAddress\n    statusReason\n    createdAt\n    restaurant { id name }\n    driver { id name }\n    items { name quantity unitPriceCents }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Restaurants {\n    restaurants { id name cuisine menu { id name description priceCents available } }\n  }\n"): (typeof documents)["\n  query Restaurants {\n    restaurants { id name cuisine menu { id name description priceCents available } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyLatestOrder {\n    myOrders(first: 1) { edges { node { ...OrderFields } } }\n  }\n"): (typeof documents)["\n  query MyLatestOrder {\n    myOrders(first: 1) { edges { node { ...OrderFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RestaurantOrders {\n    restaurantOrders(first: 15) { edges { node { ...OrderFields } } }\n  }\n"): (typeof documents)["\n  query RestaurantOrders {\n    restaurantOrders(first: 15) { edges { node { ...OrderFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DriverJobs {\n    driverJobs(first: 15) { edges { node { ...OrderFields } } }\n  }\n"): (typeof documents)["\n  query DriverJobs {\n    driverJobs(first: 15) { edges { node { ...OrderFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PayOrder($orderId: ID!) {\n    payOrder(orderId: $orderId) { id status amountCents }\n  }\n"): (typeof documents)["\n  mutation PayOrder($orderId: ID!) {\n    payOrder(orderId: $orderId) { id status amountCents }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApproveOrder($orderId: ID!) {\n    approveOrder(orderId: $orderId) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation ApproveOrder($orderId: ID!) {\n    approveOrder(orderId: $orderId) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeclineOrder($orderId: ID!, $reason: String!) {\n    declineOrder(orderId: $orderId, reason: $reason) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation DeclineOrder($orderId: ID!, $reason: String!) {\n    declineOrder(orderId: $orderId, reason: $reason) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($orderId: ID!) {\n    cancelOrder(orderId: $orderId) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($orderId: ID!) {\n    cancelOrder(orderId: $orderId) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PickUpOrder($orderId: ID!) {\n    pickUpOrder(orderId: $orderId) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation PickUpOrder($orderId: ID!) {\n    pickUpOrder(orderId: $orderId) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeliverOrder($orderId: ID!) {\n    deliverOrder(orderId: $orderId) { ...OrderFields }\n  }\n"): (typeof documents)["\n  mutation DeliverOrder($orderId: ID!) {\n    deliverOrder(orderId: $orderId) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderLive($id: ID!, $afterVersion: Int) {\n    order(id: $id, afterVersion: $afterVersion) { ...OrderFields }\n  }\n"): (typeof documents)["\n  subscription OrderLive($id: ID!, $afterVersion: Int) {\n    order(id: $id, afterVersion: $afterVersion) { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RestaurantOrdersLive {\n    restaurantOrders { ...OrderFields }\n  }\n"): (typeof documents)["\n  subscription RestaurantOrdersLive {\n    restaurantOrders { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DriverJobsLive {\n    driverJobs { ...OrderFields }\n  }\n"): (typeof documents)["\n  subscription DriverJobsLive {\n    driverJobs { ...OrderFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EventFields on Event {\n    id\n    cursor\n    type\n    aggregateType\n    aggregateId\n    payload\n    session\n    createdAt\n    deliveries { id triggerName }\n  }\n"): (typeof documents)["\n  fragment EventFields on Event {\n    id\n    cursor\n    type\n    aggregateType\n    aggregateId\n    payload\n    session\n    createdAt\n    deliveries { id triggerName }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentEvents($first: Int!) {\n    events(first: $first) { edges { node { ...EventFields } } }\n  }\n"): (typeof documents)["\n  query RecentEvents($first: Int!) {\n    events(first: $first) { edges { node { ...EventFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription EventsLive($after: String) {\n    events(after: $after) { ...EventFields }\n  }\n"): (typeof documents)["\n  subscription EventsLive($after: String) {\n    events(after: $after) { ...EventFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CausalTreeFields on CausalTree {\n    rootId\n    settled\n    failed\n    pending\n    truncated\n    events { id type depth createdAt causedByDelivery aggregateType aggregateId }\n    deliveries {\n      id\n      eventId\n      trigger\n      state\n      attemptCount\n      maxAttempts\n      lastHttpStatus\n      lastError\n      pausedReason\n      attempts { attempt outcome durationMs httpStatus startedAt }\n    }\n  }\n"): (typeof documents)["\n  fragment CausalTreeFields on CausalTree {\n    rootId\n    settled\n    failed\n    pending\n    truncated\n    events { id type depth createdAt causedByDelivery aggregateType aggregateId }\n    deliveries {\n      id\n      eventId\n      trigger\n      state\n      attemptCount\n      maxAttempts\n      lastHttpStatus\n      lastError\n      pausedReason\n      attempts { attempt outcome durationMs httpStatus startedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CausalTreeLive($eventId: ID!) {\n    causalTree(eventId: $eventId) { ...CausalTreeFields }\n  }\n"): (typeof documents)["\n  subscription CausalTreeLive($eventId: ID!) {\n    causalTree(eventId: $eventId) { ...CausalTreeFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DeliveryStatsLive {\n    deliveryStats {\n      at\n      intervalMs\n      windowMs\n      queueDepth\n      running\n      dead\n      triggers { trigger paused pausedReason pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms latencyMaxMs }\n      samples { at attempts delivered failed throughputPerSec latencyP50Ms latencyP95Ms }\n    }\n  }\n"): (typeof documents)["\n  subscription DeliveryStatsLive {\n    deliveryStats {\n      at\n      intervalMs\n      windowMs\n      queueDepth\n      running\n      dead\n      triggers { trigger paused pausedReason pending running dead delivered failed attempts throughputPerSec latencyP50Ms latencyP95Ms latencyMaxMs }\n      samples { at attempts delivered failed throughputPerSec latencyP50Ms latencyP95Ms }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LogHead {\n    events(first: 1, filter: { engineEvents: true }) { edges { node { cursor } } }\n  }\n"): (typeof documents)["\n  query LogHead {\n    events(first: 1, filter: { engineEvents: true }) { edges { node { cursor } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription EngineEventsLive($after: String) {\n    events(\n      after: $after\n      filter: {\n        engineEvents: true\n        types: [\n          \"threefactor.deliveries.progressed\"\n          \"threefactor.deliveries.redelivered\"\n          \"threefactor.deliveries.replayed\"\n          \"threefactor.trigger.paused\"\n          \"threefactor.trigger.resumed\"\n        ]\n      }\n    ) {\n      id\n      cursor\n      type\n      aggregateId\n      payload\n    }\n  }\n"): (typeof documents)["\n  subscription EngineEventsLive($after: String) {\n    events(\n      after: $after\n      filter: {\n        engineEvents: true\n        types: [\n          \"threefactor.deliveries.progressed\"\n          \"threefactor.deliveries.redelivered\"\n          \"threefactor.deliveries.replayed\"\n          \"threefactor.trigger.paused\"\n          \"threefactor.trigger.resumed\"\n        ]\n      }\n    ) {\n      id\n      cursor\n      type\n      aggregateId\n      payload\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeliveryFields on Delivery {\n    id\n    triggerName\n    status\n    source\n    attemptCount\n    maxAttempts\n    lastHttpStatus\n    lastError\n    createdAt\n    updatedAt\n    completedAt\n    event { id type aggregateType aggregateId cursor }\n  }\n"): (typeof documents)["\n  fragment DeliveryFields on Delivery {\n    id\n    triggerName\n    status\n    source\n    attemptCount\n    maxAttempts\n    lastHttpStatus\n    lastError\n    createdAt\n    updatedAt\n    completedAt\n    event { id type aggregateType aggregateId cursor }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeadLetters {\n    deliveries(first: 20, filter: { status: dead }) { edges { node { ...DeliveryFields } } }\n  }\n"): (typeof documents)["\n  query DeadLetters {\n    deliveries(first: 20, filter: { status: dead }) { edges { node { ...DeliveryFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TriggerDeliveries($trigger: String!) {\n    deliveries(first: 20, filter: { trigger: $trigger }) { edges { node { ...DeliveryFields } } }\n  }\n"): (typeof documents)["\n  query TriggerDeliveries($trigger: String!) {\n    deliveries(first: 20, filter: { trigger: $trigger }) { edges { node { ...DeliveryFields } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeliveryDetail($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryFields\n      runAt\n      attempts { attempt outcome dispatcherId startedAt durationMs httpStatus responseBody error }\n    }\n  }\n"): (typeof documents)["\n  query DeliveryDetail($id: ID!) {\n    delivery(id: $id) {\n      ...DeliveryFields\n      runAt\n      attempts { attempt outcome dispatcherId startedAt durationMs httpStatus responseBody error }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverDeliveries($ids: [ID!]!) {\n    redeliverDeliveries(ids: $ids) { count skippedIds }\n  }\n"): (typeof documents)["\n  mutation RedeliverDeliveries($ids: [ID!]!) {\n    redeliverDeliveries(ids: $ids) { count skippedIds }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverDead($trigger: String!) {\n    redeliverDead(trigger: $trigger) { count }\n  }\n"): (typeof documents)["\n  mutation RedeliverDead($trigger: String!) {\n    redeliverDead(trigger: $trigger) { count }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseTrigger($name: String!) {\n    pauseTrigger(name: $name) { name paused pausedReason }\n  }\n"): (typeof documents)["\n  mutation PauseTrigger($name: String!) {\n    pauseTrigger(name: $name) { name paused pausedReason }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeTrigger($name: String!) {\n    resumeTrigger(name: $name) { name paused pausedReason }\n  }\n"): (typeof documents)["\n  mutation ResumeTrigger($name: String!) {\n    resumeTrigger(name: $name) { name paused pausedReason }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayEvents($trigger: String!, $filter: ReplayFilter, $limit: Int) {\n    replayEvents(trigger: $trigger, filter: $filter, limit: $limit) { count lastCursor complete }\n  }\n"): (typeof documents)["\n  mutation ReplayEvents($trigger: String!, $filter: ReplayFilter, $limit: Int) {\n    replayEvents(trigger: $trigger, filter: $filter, limit: $limit) { count lastCursor complete }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;