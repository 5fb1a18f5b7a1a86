/**
 * W3C Trace Context: continue the caller's trace when it sends a valid
 * `traceparent`, otherwise start one. The value is stored on every event the
 * operation writes, and later sent on every webhook delivery.
 */
import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

export function continueTrace(traceparent: string | null | undefined, tracestate?: string | null): TraceContext {
  const match = traceparent?.trim().toLowerCase().match(TRACEPARENT);
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomBytes(16).toString('hex');
  const flags = match?.[3] ?? '01';
  // A new span id: this server's span is the child of the caller's.
  const ctx: TraceContext = { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}` };
  if (match && tracestate) ctx.tracestate = tracestate;
  return ctx;
}
