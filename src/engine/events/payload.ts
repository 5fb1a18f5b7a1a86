/**
 * The webhook body, in Hasura Event Triggers' exact shape, so handlers
 * written for Hasura run unchanged. Domain events (op MANUAL-like "EVENT")
 * use the same envelope: `event.data.new` carries the event payload.
 */
export type EventOp = 'INSERT' | 'UPDATE' | 'DELETE' | 'MANUAL';

export type Row = Record<string, unknown>;

export interface HasuraEventPayload {
  id: string;
  created_at: string;
  trigger: { name: string };
  table: { schema: string; name: string };
  event: {
    op: EventOp;
    data: { old: Row | null; new: Row | null };
    session_variables: Record<string, string> | null;
    trace_context: { trace_id: string; span_id: string } | Record<string, string> | null;
  };
  delivery_info: { max_retries: number; current_retry: number };
}
