/**
 * Writing events straight into the log, for tests of readers that must not
 * depend on any mutation: one transaction per call, like a resolver's.
 */
import type { Sql } from '../../src/engine/db/client.js';

export interface RawEvent {
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload?: Record<string, unknown>;
}

/** Insert events in one transaction; returns their ids in insertion order. */
export async function writeEvents(sql: Sql, events: RawEvent[]): Promise<string[]> {
  return sql.begin(async (tx) => {
    const ids: string[] = [];
    for (const e of events) {
      const [row] = await tx<{ id: string }[]>`
        insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
        values (${e.type}, ${e.aggregateType}, ${e.aggregateId}, ${tx.json((e.payload ?? {}) as never)})
        returning id`;
      ids.push(row!.id);
    }
    return ids;
  });
}

export const testEvent = (n: number, aggregateId = 'a1', type = 'test.happened'): RawEvent => ({
  type,
  aggregateType: 'test',
  aggregateId,
  payload: { n },
});
