/**
 * What a handler function receives: the webhook body (Hasura's exact shape,
 * ./contract.ts), checked once at the edge, and the typed domain view
 * a function's business logic reads. Handlers never look at the envelope.
 */
import { z } from 'zod';
import type { EventOp, HasuraEventPayload, Row } from './contract.js';

const row = z.record(z.string(), z.unknown());

/** The envelope Hasura sends; extra fields are allowed, missing ones are not. */
const envelope = z.looseObject({
  id: z.string().min(1),
  created_at: z.string().min(1),
  trigger: z.looseObject({ name: z.string().min(1) }),
  table: z.looseObject({ schema: z.string(), name: z.string() }),
  event: z.looseObject({
    op: z.enum(['INSERT', 'UPDATE', 'DELETE', 'MANUAL']),
    data: z.looseObject({ old: row.nullable(), new: row.nullable() }),
    // Hasura omits these when it has none; they are optional here for that reason.
    session_variables: z.record(z.string(), z.string()).nullable().optional(),
    // Only string entries matter (traceparent, or Hasura's trace_id/span_id); a
    // tracing detail must never make a delivery fail for good, so others are dropped.
    trace_context: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
  delivery_info: z.looseObject({ max_retries: z.number().int().min(0), current_retry: z.number().int().min(0) }),
});

export type EnvelopeCheck = { ok: true; payload: HasuraEventPayload } | { ok: false; message: string };

/** Check an already-parsed JSON body; the message names the first bad field. */
export function checkEnvelope(body: unknown): EnvelopeCheck {
  const result = envelope.safeParse(body);
  if (result.success) {
    const p = result.data;
    const payload: HasuraEventPayload = {
      ...p,
      event: { ...p.event, session_variables: p.event.session_variables ?? null, trace_context: stringsOnly(p.event.trace_context) },
    };
    return { ok: true, payload };
  }
  return { ok: false, message: `body is not a Hasura event payload: ${describeIssue(result.error)}` };
}

function stringsOnly(ctx: Record<string, unknown> | null | undefined): Record<string, string> | null {
  if (!ctx) return null;
  return Object.fromEntries(Object.entries(ctx).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : '(root)';
  return `${where}: ${issue.message}`;
}

/** The domain view of one delivery, with `data` typed by the function's schema. */
export interface HandlerEvent<D> {
  /** The event id: the same on every redelivery, so it names the work for idempotency and logs. */
  id: string;
  /** Domain event type (e.g. `order.placed`), or null for a table-capture event. */
  type: string | null;
  /** The trigger that caused this delivery. */
  trigger: string;
  op: EventOp;
  createdAt: string;
  /** `event.data.new` (for a domain event: its payload), parsed by the function's schema. */
  data: D;
  /** `event.data.old` as sent (table capture updates and deletes). */
  old: Row | null;
  /** Who caused the event (Hasura session variables). */
  session: Record<string, string> | null;
  /** 0 on the first attempt. */
  attempt: number;
  maxRetries: number;
  raw: HasuraEventPayload;
}

/**
 * The domain event's type. The dispatcher delivers a domain event like a row
 * insert (op INSERT, table = its aggregate type) whose `data.new` is the
 * payload plus `event_type`; table-capture events have none.
 */
export function eventType(payload: HasuraEventPayload): string | null {
  const type = payload.event.data.new?.event_type;
  return typeof type === 'string' ? type : null;
}

export function toHandlerEvent<D>(payload: HasuraEventPayload, data: D): HandlerEvent<D> {
  return {
    id: payload.id,
    type: eventType(payload),
    trigger: payload.trigger.name,
    op: payload.event.op,
    createdAt: payload.created_at,
    data,
    old: payload.event.data.old,
    session: payload.event.session_variables,
    attempt: payload.delivery_info.current_retry,
    maxRetries: payload.delivery_info.max_retries,
    raw: payload,
  };
}

/** The `traceparent` an event carries, if any (Hasura's trace_context or ours). */
export function traceparentOf(payload: HasuraEventPayload): string | undefined {
  const ctx: Record<string, string> | null = payload.event.trace_context;
  if (!ctx) return undefined;
  if (typeof ctx.traceparent === 'string') return ctx.traceparent;
  // Hasura's own form: { trace_id, span_id } (hex).
  if (typeof ctx.trace_id === 'string' && typeof ctx.span_id === 'string') {
    return `00-${ctx.trace_id.padStart(32, '0')}-${ctx.span_id.padStart(16, '0')}-01`;
  }
  return undefined;
}
