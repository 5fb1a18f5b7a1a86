/**
 * The shape every event-log read returns, and its conversion to the hub's
 * event. xid and seq travel as text: both are 64-bit. created_at travels as
 * epoch milliseconds: drizzle sets the shared client's timestamp parsers to
 * return raw text, which this module should not depend on.
 */
import type { JsonObject } from '../../db/schema/events.js';
import type { Cursor } from '../../events/cursor.js';

export interface EventRecord {
  id: string;
  xid: string;
  seq: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: JsonObject;
  session: JsonObject | null;
  trace_context: JsonObject | null;
  caused_by_event: string | null;
  caused_by_delivery: string | null;
  created_ms: number;
}

/** One committed event, as the hub fans it out. */
export interface LogEvent {
  cursor: Cursor;
  id: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: JsonObject;
  session: JsonObject | null;
  traceContext: JsonObject | null;
  /** The event and delivery whose handler wrote it (null: no delivery behind the write). */
  causedByEvent: string | null;
  causedByDelivery: string | null;
  createdAt: Date;
}

export function toLogEvent(r: EventRecord): LogEvent {
  return {
    cursor: { xid: BigInt(r.xid), seq: BigInt(r.seq) },
    id: r.id,
    type: r.type,
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    payload: r.payload,
    session: r.session,
    traceContext: r.trace_context,
    causedByEvent: r.caused_by_event,
    causedByDelivery: r.caused_by_delivery,
    createdAt: new Date(r.created_ms),
  };
}
