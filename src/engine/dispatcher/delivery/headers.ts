/**
 * The headers of a delivery: Standard Webhooks signature (webhook-id is the
 * event id, which is also the idempotency key), W3C traceparent continuing
 * the event's trace with a new span, the cause (trigger, delivery and event
 * ids: a handler passes them back on its write-back, for the loop guard in
 * drizzle/…_delivery_routing and the events' caused_by_* columns), and the
 * trigger's own headers, which cannot override any of these.
 */
import { HEADER } from '../../../kit/contract.js';
import { continueTrace, type TraceContext } from '../../../kit/trace.js';
import type { WebhookSigner } from './signer.js';

export interface DeliveryHeaderInput {
  signer: WebhookSigner;
  eventId: string;
  deliveryId: string;
  triggerName: string;
  body: string;
  traceContext: Record<string, string> | null;
  /** The attempt span's context (src/kit/telemetry.ts) when an SDK made one; otherwise the event's trace is continued here. */
  trace?: TraceContext;
  custom: Record<string, string>;
  now?: Date;
}

export function deliveryHeaders(input: DeliveryHeaderInput): Record<string, string> {
  const now = input.now ?? new Date();
  const trace = input.trace ?? continueTrace(input.traceContext?.traceparent, input.traceContext?.tracestate);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.custom)) headers[name.toLowerCase()] = value;
  Object.assign(headers, {
    'content-type': 'application/json',
    'user-agent': 'threefactor-dispatcher',
    [HEADER.webhookId]: input.eventId,
    [HEADER.webhookTimestamp]: String(Math.floor(now.getTime() / 1000)),
    [HEADER.webhookSignature]: input.signer.sign(input.eventId, now, input.body),
    [HEADER.idempotencyKey]: input.eventId,
    [HEADER.traceparent]: trace.traceparent,
    ...(trace.tracestate ? { [HEADER.tracestate]: trace.tracestate } : {}),
    [HEADER.trigger]: input.triggerName,
    [HEADER.delivery]: input.deliveryId,
    [HEADER.event]: input.eventId,
  });
  return headers;
}
