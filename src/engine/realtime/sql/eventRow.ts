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
    createdAt: new Date(r.created_ms),
  };
}
