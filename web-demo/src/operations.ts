/**
 * Every GraphQL document the demo sends, typed by graphql-codegen from
 * schema/schema.graphql (`npm run codegen` writes ./gql/). Each order
 * selection is the one OrderFields fragment, so a pushed order, a query's
 * order and a mutation's answer are the same shape, and the cache
 * (./orderVersions.ts) can swap one for another. The lists ask for 15
 * orders: graphql-armor's cost limit (MAX_QUERY_COST) counts every field of
 * every one, urql's `__typename`s included.
 */
import { graphql } from './gql/index.js';

export const ORDER_FIELDS = graphql(`
  fragment OrderFields on Order {
    id
    status
    version
    totalCents
    deliveryAddress
    statusReason
    createdAt
    restaurant { id name }
    driver { id name }
    items { name quantity unitPriceCents }
  }
`);

export const RESTAURANTS = graphql(`
  query Restaurants {
    restaurants { id name cuisine menu { id name description priceCents available } }
  }
`);

export const MY_LATEST_ORDER = graphql(`
  query MyLatestOrder {
    myOrders(first: 1) { edges { node { ...OrderFields } } }
  }
`);

export const RESTAURANT_ORDERS = graphql(`
  query RestaurantOrders {
    restaurantOrders(first: 15) { edges { node { ...OrderFields } } }
  }
`);

export const DRIVER_JOBS = graphql(`
  query DriverJobs {
    driverJobs(first: 15) { edges { node { ...OrderFields } } }
  }
`);

export const PLACE_ORDER = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) { ...OrderFields }
  }
`);

export const PAY_ORDER = graphql(`
  mutation PayOrder($orderId: ID!) {
    payOrder(orderId: $orderId) { id status amountCents }
  }
`);

export const APPROVE_ORDER = graphql(`
  mutation ApproveOrder($orderId: ID!) {
    approveOrder(orderId: $orderId) { ...OrderFields }
  }
`);

export const DECLINE_ORDER = graphql(`
  mutation DeclineOrder($orderId: ID!, $reason: String!) {
    declineOrder(orderId: $orderId, reason: $reason) { ...OrderFields }
  }
`);

export const CANCEL_ORDER = graphql(`
  mutation CancelOrder($orderId: ID!) {
    cancelOrder(orderId: $orderId) { ...OrderFields }
  }
`);

export const PICK_UP_ORDER = graphql(`
  mutation PickUpOrder($orderId: ID!) {
    pickUpOrder(orderId: $orderId) { ...OrderFields }
  }
`);

export const DELIVER_ORDER = graphql(`
  mutation DeliverOrder($orderId: ID!) {
    deliverOrder(orderId: $orderId) { ...OrderFields }
  }
`);

/** `afterVersion`: after a reconnect, the current state comes only if it is newer than what the page shows. */
export const ORDER_LIVE = graphql(`
  subscription OrderLive($id: ID!, $afterVersion: Int) {
    order(id: $id, afterVersion: $afterVersion) { ...OrderFields }
  }
`);

export const RESTAURANT_ORDERS_LIVE = graphql(`
  subscription RestaurantOrdersLive {
    restaurantOrders { ...OrderFields }
  }
`);

export const DRIVER_JOBS_LIVE = graphql(`
  subscription DriverJobsLive {
    driverJobs { ...OrderFields }
  }
`);

export const EVENT_FIELDS = graphql(`
  fragment EventFields on Event {
    id
    cursor
    type
    aggregateType
    aggregateId
    payload
    session
    createdAt
    deliveries { id triggerName }
  }
`);

/** History for the first load: the newest events (newest first), whose first cursor the stream then resumes after. */
export const RECENT_EVENTS = graphql(`
  query RecentEvents($first: Int!) {
    events(first: $first) { edges { node { ...EventFields } } }
  }
`);

/** Each event with the triggers the server routed it to (its deliveries, made in the event's own transaction). */
export const EVENTS_LIVE = graphql(`
  subscription EventsLive($after: String) {
    events(after: $after) { ...EventFields }
  }
`);

/**
 * The causal tree of an event, flat (GraphQL cannot recurse): every event
 * with the delivery that caused it, every delivery with its event and
 * attempts. ./views/causalTree.ts draws it as a tree. A customer gets their
 * own trees, without payloads or error text (null for them).
 */
export const CAUSAL_TREE_FIELDS = graphql(`
  fragment CausalTreeFields on CausalTree {
    rootId
    settled
    failed
    pending
    truncated
    events { id type depth createdAt causedByDelivery aggregateType aggregateId }
    deliveries {
      id
      eventId
      trigger
      state
      attemptCount
      maxAttempts
      lastHttpStatus
      lastError
      pausedReason
      attempts { attempt outcome durationMs httpStatus startedAt }
    }
  }
`);

/** Live until it settles: then the settled tree comes, and the subscription completes. */
export const CAUSAL_TREE_LIVE = graphql(`
  subscription CausalTreeLive($eventId: ID!) {
    causalTree(eventId: $eventId) { ...CausalTreeFields }
  }
`);
