/**
 * The food-delivery app's realtime topics. Besides the engine's own
 * `order:<id>` (an event's aggregate), every order event also goes to its
 * restaurant's and its driver's topic, named by the new state in its
 * payload, for the restaurant and driver feeds (`App.topicsOf`). Read from
 * the event alone: fan-out costs no I/O.
 */
import { aggregateTopic, type LogEvent } from '../../engine/index.js';

export const orderTopic = (orderId: string) => aggregateTopic('order', orderId);
export const restaurantTopic = (restaurantId: string) => `restaurant:${restaurantId}`;
export const driverTopic = (driverId: string) => `driver:${driverId}`;

const NONE: readonly string[] = [];

export function orderEventTopics(event: LogEvent): readonly string[] {
  if (event.aggregateType !== 'order') return NONE;
  const { restaurantId, driverId } = event.payload;
  const topics: string[] = [];
  if (typeof restaurantId === 'string') topics.push(restaurantTopic(restaurantId));
  if (typeof driverId === 'string') topics.push(driverTopic(driverId));
  return topics;
}
