/**
 * Deliveries for handler tests: Hasura-shaped bodies and Standard Webhooks
 * signatures made with the real `standardwebhooks` package, sent over HTTP
 * or built as a fetch `Request` for the kit's fetch core.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { HEADER, type HasuraEventPayload } from '../../src/kit/contract.js';

export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * A domain event as the dispatcher delivers it: like a row insert into its
 * aggregate type, `data.new` = payload + `event_type`, trace as Hasura's
 * {trace_id, span_id}.
 */
export function domainEvent(
  type: string,
  payload: Record<string, unknown>,
  opts: { id?: string; trigger?: string; traceparent?: string; attempt?: number; aggregateType?: string } = {},
): HasuraEventPayload {
  return {
    id: opts.id ?? randomUUID(),
    created_at: new Date().toISOString(),
    trigger: { name: opts.trigger ?? 'test-trigger' },
    table: { schema: 'public', name: opts.aggregateType ?? 'order' },
    event: {
      op: 'INSERT',
      data: { old: null, new: { ...payload, event_type: type } },
      session_variables: { 'x-hasura-role': 'customer', 'x-hasura-user-id': 'someone' },
      trace_context: hasuraTrace(opts.traceparent),
    },
    delivery_info: { max_retries: 5, current_retry: opts.attempt ?? 0 },
  };
}

function hasuraTrace(traceparent: string | undefined): { trace_id: string; span_id: string } | null {
  const [, traceId, spanId] = traceparent?.split('-') ?? [];
  return traceId && spanId ? { trace_id: traceId, span_id: spanId } : null;
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

/** A body (object or raw text) and the headers the dispatcher signs it with. */
export function signed(body: unknown, opts: SendOptions): { headers: Record<string, string>; body: string } {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const msgId = opts.msgId ?? `msg_${randomUUID()}`;
  const at = opts.signedAt ?? new Date();
  const signature = new Webhook(opts.secret).sign(msgId, at, text);
  return {
    headers: {
      'content-type': 'application/json',
      [HEADER.webhookId]: msgId,
      [HEADER.webhookTimestamp]: String(Math.floor(at.getTime() / 1000)),
      [HEADER.webhookSignature]: signature,
      ...opts.headers,
    },
    body: opts.tamper ? opts.tamper(text) : text,
  };
}

/**
 * A signed delivery as a fetch Request, with the Content-Length a wire request
 * carries (a constructed Request has none of its own).
 */
export function signedRequest(url: string, body: unknown, opts: SendOptions): Request {
  const delivery = signed(body, opts);
  const length = String(new TextEncoder().encode(delivery.body).byteLength);
  return new Request(url, { method: 'POST', headers: { 'content-length': length, ...delivery.headers }, body: delivery.body });
}

/** POST a body (object or raw text) to a handler URL, signed as the dispatcher signs. */
export async function deliver(url: string, body: unknown, opts: SendOptions): Promise<Delivery> {
  return answerOf(await fetch(url, { method: 'POST', ...signed(body, opts) }));
}

/** A handler's answer, its JSON body parsed (a non-JSON body kept as `error`). */
export async function answerOf(res: Response): Promise<Delivery> {
  const raw = await res.text();
  let parsed: Delivery['body'];
  try {
    parsed = JSON.parse(raw) as Delivery['body'];
  } catch {
    parsed = { error: raw };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The delivery the dispatcher makes of a logged event (see domainEvent). */
export function deliveryOf(
  event: {
    id: string;
    type: string;
    aggregateType: string;
    payload: Record<string, unknown>;
    session: unknown;
    traceContext: unknown;
    createdAt: Date | string;
  },
  trigger: string,
): HasuraEventPayload {
  const body = domainEvent(event.type, event.payload, {
    id: event.id,
    trigger,
    aggregateType: event.aggregateType,
    traceparent: (event.traceContext as { traceparent?: string } | null)?.traceparent,
  });
  return {
    ...body,
    created_at: new Date(event.createdAt).toISOString(),
    event: { ...body.event, session_variables: (event.session as Record<string, string> | null) ?? null },
    delivery_info: { max_retries: 8, current_retry: 0 },
  };
}
