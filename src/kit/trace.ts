/**
 * W3C Trace Context, part of the wire contract: continue the caller's trace
 * when it sends a valid `traceparent`, otherwise start one. The API stores it
 * on every event an operation writes, the dispatcher continues it on each
 * delivery, and a function continues it on its write-back. Web Crypto only,
 * so the kit runs on any fetch-speaking platform.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

export function continueTrace(traceparent: string | null | undefined, tracestate?: string | null): TraceContext {
  const match = traceparent?.trim().toLowerCase().match(TRACEPARENT);
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomHex(16);
  const flags = match?.[3] ?? '01';
  // A new span id: this span is the child of the caller's.
  const ctx: TraceContext = { traceparent: `00-${traceId}-${randomHex(8)}-${flags}` };
  if (match && tracestate) ctx.tracestate = tracestate;
  return ctx;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
