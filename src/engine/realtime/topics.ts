/**
 * Routing: the in-memory topics an event is fanned out to. Routing reads
 * only the event row, never the database, so fan-out costs no I/O.
 * - `*`: every event (the admin stream);
 * - `<aggregateType>:<aggregateId>`, e.g. `order:<id>`;
 * - whatever the app adds for it (`App.topicsOf`), e.g. the food-delivery
 *   app's `restaurant:<id>` from an order's payload.
 */
import type { LogEvent } from './sql/eventRow.js';

/** An app's own topics for an event, read from the event alone. */
export type AppTopics = (event: LogEvent) => readonly string[];

export const ALL = '*';

export const aggregateTopic = (aggregateType: string, aggregateId: string) => `${aggregateType}:${aggregateId}`;

export function topicsOf(event: LogEvent, appTopics?: AppTopics): string[] {
  const topics = [ALL, aggregateTopic(event.aggregateType, event.aggregateId)];
  if (appTopics) topics.push(...appTopics(event));
  return topics;
}
