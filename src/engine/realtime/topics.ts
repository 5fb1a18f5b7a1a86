/**
 * Routing: the in-memory topics an event is fanned out to. Routing reads
 * only the event row, never the database, so fan-out costs no I/O.
 * - `*`: every event (the admin stream);
 * - `<aggregateType>:<aggregateId>`, e.g. `order:<id>`;
 * - order events also go to `restaurant:<id>` and `driver:<id>` from the new
 *   state in their payload, for the restaurant and driver feeds.
 */
import type { LogEvent } from './sql/eventRow.js';

export const ALL = '*';

export const aggregateTopic = (aggregateType: string, aggregateId: string) => `${aggregateType}:${aggregateId}`;
export const restaurantTopic = (restaurantId: string) => `restaurant:${restaurantId}`;
export const driverTopic = (driverId: string) => `driver:${driverId}`;

export function topicsOf(event: LogEvent): string[] {
  const topics = [ALL, aggregateTopic(event.aggregateType, event.aggregateId)];
  if (event.aggregateType === 'order') {
    const { restaurantId, driverId } = event.payload;
    if (typeof restaurantId === 'string') topics.push(restaurantTopic(restaurantId));
    if (typeof driverId === 'string') topics.push(driverTopic(driverId));
  }
  return topics;
}
