/**
 * Builds the webhook body, in Hasura Event Triggers' exact shape
 * (../payload.ts), from a claimed delivery.
 *
 * Captured table rows (aggregate_type `table:<schema>.<table>`) map one to
 * one: table {schema, name}, op INSERT/UPDATE/DELETE/MANUAL, data {old, new}.
 *
 * Domain events follow one convention, so a Hasura-style handler can read
 * them like a row insert: table {schema: 'public', name: <aggregate_type>},
 * op 'INSERT', data.old null and data.new = the event payload plus
 * `event_type` (the event's type, which wins over a payload key of that
 * name). Order events carry the order's new state, so data.new reads like
 * the order row.
 *
 * A table trigger's operation spec may name a `payload` column list (Hasura's
 * payload): then data.old / data.new of that operation carry those columns
 * only, in the listed order (a MANUAL row is sent as given).
 */
import type { ClaimedDelivery } from '../../events/sql/claimDeliveries.js';
import type { EventOp, HasuraEventPayload, Row } from '../../events/payload.js';
import type { OperationSpec, TriggerMatch } from '../../events/triggers/triggerDefinition.js';

const TABLE_PREFIX = 'table:';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function webhookBody(triggerName: string, d: ClaimedDelivery, match: TriggerMatch): HasuraEventPayload {
  const e = d.event;
  const captured = e.aggregateType.startsWith(TABLE_PREFIX);
  let table: HasuraEventPayload['table'];
  let op: EventOp;
  let data: HasuraEventPayload['event']['data'];
  if (captured) {
    const qualified = e.aggregateType.slice(TABLE_PREFIX.length);
    const dot = qualified.indexOf('.');
    table = { schema: qualified.slice(0, dot), name: qualified.slice(dot + 1) };
    const change = e.payload as { op: EventOp; data: { old: Row | null; new: Row | null } };
    op = change.op;
    const payload = match.kind === 'table' ? operationSpec(match, op)?.payload : undefined;
    data = { old: projectRow(change.data.old ?? null, payload), new: projectRow(change.data.new ?? null, payload) };
  } else {
    table = { schema: 'public', name: e.aggregateType };
    op = 'INSERT';
    data = { old: null, new: { ...e.payload, event_type: e.type } };
  }
  return {
    id: e.id,
    created_at: e.createdAt,
    trigger: { name: triggerName },
    table,
    event: {
      op,
      data,
      session_variables: e.session,
      trace_context: hasuraTraceContext(e.traceContext),
    },
    delivery_info: { max_retries: d.maxAttempts - 1, current_retry: d.attempts },
  };
}

function operationSpec(match: Extract<TriggerMatch, { kind: 'table' }>, op: EventOp): OperationSpec | undefined {
  if (op === 'INSERT') return match.insert;
  if (op === 'UPDATE') return match.update;
  if (op === 'DELETE') return match.delete;
  return undefined;
}

/** Only the listed columns, in the listed order; a listed column the row lacks is left out rather than invented. */
export function projectRow(row: Row | null, columns: '*' | string[] | undefined): Row | null {
  if (!row || columns === undefined || columns === '*') return row;
  const out: Row = {};
  for (const c of columns) if (Object.hasOwn(row, c)) out[c] = row[c];
  return out;
}

/** Hasura sends the trace as {trace_id, span_id}; the log stores a W3C traceparent. */
function hasuraTraceContext(ctx: Record<string, string> | null): HasuraEventPayload['event']['trace_context'] {
  const match = ctx?.traceparent?.match(TRACEPARENT);
  return match ? { trace_id: match[1]!, span_id: match[2]! } : null;
}
