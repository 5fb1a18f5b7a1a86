/**
 * The write path of the 3factor pattern: a mutation's CRUD and its events in
 * one transaction. The transaction's actor and trace context are set as
 * transaction-local settings, which the event log's column defaults (and the
 * table-capture triggers) read, so every event written inside carries them.
 */
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { events, type JsonObject } from '../db/schema/events.js';
import type { Cursor } from './cursor.js';

export interface EventContext {
  /** Hasura-style session variables: who caused the write. */
  session: Record<string, string> | null;
  /** W3C trace context of the request, e.g. { traceparent }. */
  traceContext: Record<string, string> | null;
  /** Ids of the events written, collected for the request log. */
  eventIds: string[];
  /**
   * The event trigger this write was made for (a handler's write-back passes
   * the x-threefactor-trigger header it received). Events written here are
   * not routed to that trigger again: the loop guard (see
   * drizzle/…_delivery_routing, threefactor_route_events).
   */
  causedBy?: string | null;
  /**
   * The event and delivery whose handler made this write (a write-back
   * passes them back, src/kit/contract.ts): every event written here records
   * them (events.caused_by_event, caused_by_delivery), the causal tree's
   * edges. Null or absent: nothing caused it but its caller.
   */
  cause?: { event: string; delivery: string } | null;
  /**
   * The log position of each committed event, by id: what a mutation's
   * `extensions.threefactor.cursor` is made of (server/mutationEvents.ts).
   * withEventTransaction fills it with eventIds when present; a writer that
   * pushes only an id leaves it out, and its position is read back.
   */
  positions?: Map<string, Cursor>;
}

export interface NewEvent {
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: JsonObject;
}

export interface EventTx {
  tx: Tx;
  /** Append one event to the log, inside this transaction. */
  emit(event: NewEvent): Promise<string>;
}

export async function withEventTransaction<T>(db: Db, ctx: EventContext, fn: (etx: EventTx) => Promise<T>): Promise<T> {
  const written: Array<{ id: string; cursor: Cursor }> = [];
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`select
      set_config('threefactor.session', ${ctx.session ? JSON.stringify(ctx.session) : ''}, true),
      set_config('threefactor.trace', ${ctx.traceContext ? JSON.stringify(ctx.traceContext) : ''}, true),
      set_config('threefactor.caused_by', ${ctx.causedBy ?? ''}, true),
      set_config('threefactor.cause_event', ${ctx.cause?.event ?? ''}, true),
      set_config('threefactor.cause_delivery', ${ctx.cause?.delivery ?? ''}, true)`);
    return fn({
      tx,
      emit: async (event) => {
        // Prepared: one statement per mutation, so it skips its parse-and-describe round trip. Behind a
        // transaction pooler the pool sends it unnamed instead (DATABASE_POOL_MODE, db/poolMode.ts).
        const [row] = await tx
          .insert(events)
          .values(event)
          .returning({ id: events.id, xid: events.xid, seq: events.seq })
          .prepare('emitEvent')
          .execute();
        written.push({ id: row!.id, cursor: { xid: BigInt(row!.xid), seq: BigInt(row!.seq) } });
        return row!.id;
      },
    });
  });
  // Only ids of committed events are reported: a rollback leaves none.
  for (const { id, cursor } of written) {
    ctx.eventIds.push(id);
    ctx.positions?.set(id, cursor);
  }
  return result;
}
