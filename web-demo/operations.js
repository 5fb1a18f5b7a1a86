// Every GraphQL document the demo sends, in one place, written against
// schema/schema.graphql. Subscriptions select the same fields as the queries
// they keep up to date, so a pushed order simply replaces the one on screen.

const ORDER_FIELDS = `
  id status version totalCents deliveryAddress statusReason createdAt updatedAt
  restaurant { id name }
  driver { id name }
  items { name quantity unitPriceCents }
`;

export const RESTAURANTS = `query Restaurants {
  restaurants { id name cuisine menu { id name description priceCents available } }
}`;

export const MY_LATEST_ORDER = `query MyLatestOrder {
  myOrders(first: 1) { edges { node { ${ORDER_FIELDS} } } }
}`;

export const RESTAURANT_ORDERS = `query RestaurantOrders {
  restaurantOrders(first: 20) { edges { node { ${ORDER_FIELDS} } } }
}`;

export const DRIVER_JOBS = `query DriverJobs {
  driverJobs(first: 20) { edges { node { ${ORDER_FIELDS} } } }
}`;

export const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { ${ORDER_FIELDS} }
}`;

export const PAY_ORDER = `mutation PayOrder($orderId: ID!) {
  payOrder(orderId: $orderId) { id status amountCents }
}`;

export const APPROVE_ORDER = `mutation ApproveOrder($orderId: ID!) {
  approveOrder(orderId: $orderId) { id status version }
}`;

export const DECLINE_ORDER = `mutation DeclineOrder($orderId: ID!, $reason: String!) {
  declineOrder(orderId: $orderId, reason: $reason) { id status version }
}`;

export const PICK_UP_ORDER = `mutation PickUpOrder($orderId: ID!) {
  pickUpOrder(orderId: $orderId) { id status version }
}`;

export const DELIVER_ORDER = `mutation DeliverOrder($orderId: ID!) {
  deliverOrder(orderId: $orderId) { id status version }
}`;

export const ORDER_LIVE = `subscription OrderLive($id: ID!) {
  order(id: $id) { ${ORDER_FIELDS} }
}`;

export const RESTAURANT_ORDERS_LIVE = `subscription RestaurantOrdersLive {
  restaurantOrders { ${ORDER_FIELDS} }
}`;

export const DRIVER_JOBS_LIVE = `subscription DriverJobsLive {
  driverJobs { ${ORDER_FIELDS} }
}`;

/** Each event with the triggers the server routed it to (its deliveries, made in the event's own transaction). */
export const EVENTS_LIVE = `subscription EventsLive($after: String) {
  events(after: $after) { id cursor type aggregateType aggregateId payload session createdAt deliveries { triggerName } }
}`;

/** Connection -> nodes. */
export const nodes = (connection) => (connection?.edges ?? []).map((e) => e.node);
