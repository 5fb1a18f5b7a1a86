/**
 * The headers of a delivery: Standard Webhooks signature (webhook-id is the
 * event id, which is also the idempotency key), W3C traceparent continuing
 * the event's trace with a new span, the trigger name (a handler passes it
 * back on its write-back, see the loop guard in drizzle/…_delivery_routing),
 * and the trigger's own headers, which cannot override any of these.
 */
import { continueTrace } from '../../server/trace.js';
import type { WebhookSigner } from './signer.js';

export interface DeliveryHeaderInput {
  signer: WebhookSigner;
  eventId: string;
  deliveryId: string;
  triggerName: string;
  body: string;
  traceContext: Record<string, string> | null;
  custom: Record<string, string>;
  now?: Date;
}

export const TRIGGER_HEADER = 'x-threefactor-trigger';

export function deliveryHeaders(input: DeliveryHeaderInput): Record<string, string> {
  const now = input.now ?? new Date();
  const trace = continueTrace(input.traceContext?.traceparent, input.traceContext?.tracestate);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.custom)) headers[name.toLowerCase()] = value;
  Object.assign(headers, {
    'content-type': 'application/json',
    'user-agent': 'threefactor-dispatcher',
    'webhook-id': input.eventId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': input.signer.sign(input.eventId, now, input.body),
    'idempotency-key': input.eventId,
    traceparent: trace.traceparent,
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    [TRIGGER_HEADER]: input.triggerName,
    'x-threefactor-delivery': input.deliveryId,
  });
  return headers;
}
