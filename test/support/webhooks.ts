/**
 * Deliveries for handler tests: Hasura-shaped bodies and Standard Webhooks
 * signatures made with the real `standardwebhooks` package, sent over HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { HasuraEventPayload } from '../../src/events/payload.js';

export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/** A domain event as the dispatcher delivers it: the payload fields plus `type` in data.new. */
export function domainEvent(
  type: string,
  payload: Record<string, unknown>,
  opts: { id?: string; trigger?: string; traceparent?: string; attempt?: number } = {},
): HasuraEventPayload {
  return {
    id: opts.id ?? randomUUID(),
    created_at: new Date().toISOString(),
    trigger: { name: opts.trigger ?? 'test-trigger' },
    table: { schema: 'public', name: 'events' },
    event: {
      op: 'MANUAL',
      data: { old: null, new: { type, ...payload } },
      session_variables: { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'someone' },
      trace_context: opts.traceparent ? { traceparent: opts.traceparent } : null,
    },
    delivery_info: { max_retries: 5, current_retry: opts.attempt ?? 0 },
  };
}

export interface Delivery {
  status: number;
  body: { ok?: boolean; outcome?: string; error?: string };
  headers: Headers;
}

export interface SendOptions {
  secret: string;
  /** Sign with this time instead of now (stale-timestamp tests). */
  signedAt?: Date;
  msgId?: string;
  headers?: Record<string, string>;
  /** Change the body after signing (tampering tests). */
  tamper?: (signedBody: string) => string;
}

/** POST a body (object or raw text) to a handler URL, signed as the dispatcher signs. */
export async function deliver(url: string, body: unknown, opts: SendOptions): Promise<Delivery> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const msgId = opts.msgId ?? `msg_${randomUUID()}`;
  const at = opts.signedAt ?? new Date();
  const signature = new Webhook(opts.secret).sign(msgId, at, text);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
      ...opts.headers,
    },
    body: opts.tamper ? opts.tamper(text) : text,
  });
  const raw = await res.text();
  let parsed: Delivery['body'];
  try {
    parsed = JSON.parse(raw) as Delivery['body'];
  } catch {
    parsed = { error: raw };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The delivery the dispatcher makes of a logged event: its payload plus `type` in data.new. */
export function deliveryOf(
  event: { id: string; type: string; payload: Record<string, unknown>; session: unknown; traceContext: unknown; createdAt: Date | string },
  trigger: string,
): HasuraEventPayload {
  return {
    id: event.id,
    created_at: new Date(event.createdAt).toISOString(),
    trigger: { name: trigger },
    table: { schema: 'public', name: 'events' },
    event: {
      op: 'MANUAL',
      data: { old: null, new: { type: event.type, ...event.payload } },
      session_variables: (event.session as Record<string, string> | null) ?? null,
      trace_context: (event.traceContext as Record<string, string> | null) ?? null,
    },
    delivery_info: { max_retries: 8, current_retry: 0 },
  };
}
