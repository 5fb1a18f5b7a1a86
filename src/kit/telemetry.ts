/**
 * OpenTelemetry spans along the chain, on the OpenTelemetry API alone: the
 * kit never loads an SDK. The process that hosts it registers one (the
 * threefactor processes do when OTEL_EXPORTER_OTLP_ENDPOINT is set); without
 * one the API's tracer is a no-op, `startSpan` reports no context of its own,
 * and the caller continues the trace with ./trace.ts as it always did.
 *
 * A span's parent is the W3C `traceparent` the wire carries (validated by
 * ./trace.ts's rule), not an ambient context, and what goes on the wire next
 * is the span's own context: so the ids every process propagates are the ids
 * the collector receives, and one trace joins the API, the dispatcher and the
 * functions whatever runs in between. Attributes name what happened (ids,
 * names, statuses), never a payload or a secret.
 */
import {
  context,
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { boundTracestate, parseTraceparent, type TraceContext } from './trace.js';

export { SpanKind, type Attributes, type Span };

/** The instrumentation scope of every threefactor span. */
export const TRACER_NAME = 'threefactor';


/** Our attribute names, beside the semantic conventions' own. */
export const ATTR = {
  trigger: 'threefactor.trigger',
  delivery: 'threefactor.delivery',
  event: 'threefactor.event',
  eventType: 'threefactor.event_type',
  /** 1-based: the first attempt of a delivery is attempt 1. */
  attempt: 'threefactor.attempt',
  /** delivered, retry, dead or paused for an attempt; the function's outcome word for a handler. */
  outcome: 'threefactor.outcome',
  handler: 'threefactor.handler',
  /** The ids of the events an operation committed. */
  events: 'threefactor.events',
} as const;

export interface StartedSpan {
  span: Span;
  /**
   * What to propagate downstream: the span's own context when an SDK made
   * the span, undefined under the no-op API (the caller then continues the
   * trace as ./trace.ts does). `tracestate` is the caller's, bounded.
   */
  context: TraceContext | undefined;
}

export interface Parent {
  traceparent?: string | null;
  tracestate?: string | null;
}

/**
 * Starts a span whose parent is the caller's `traceparent` when valid (a
 * new trace otherwise). End it with `endSpan`.
 */
export function startSpan(name: string, parent: Parent | undefined, options: { kind: SpanKind; attributes?: Attributes }): StartedSpan {
  const remote = parseTraceparent(parent?.traceparent);
  const state = remote && parent?.tracestate ? boundTracestate(parent.tracestate) : undefined;
  const parentContext = remote
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: remote.traceId,
        spanId: remote.parentId,
        traceFlags: parseInt(remote.flags, 16),
        isRemote: true,
        ...(state ? { traceState: createTraceState(state) } : {}),
      })
    : ROOT_CONTEXT;
  // Looked up per span, not held: a held tracer stays bound to the first provider registered, even once replaced.
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: options.kind, attributes: options.attributes }, parentContext);
  const own = span.spanContext();
  // The no-op API hands back the parent's own context (or an invalid one): no span of ours to propagate.
  if (!trace.isSpanContextValid(own) || own.spanId === remote?.parentId) return { span, context: undefined };
  const flags = own.traceFlags.toString(16).padStart(2, '0');
  return { span, context: { traceparent: `00-${own.traceId}-${own.spanId}-${flags}`, ...(state ? { tracestate: state } : {}) } };
}

/** The span that is current in this async context, as headers: how an in-process call inherits its caller's span. */
export function activeTrace(): TraceContext | undefined {
  const active = trace.getSpanContext(context.active());
  if (!active || !trace.isSpanContextValid(active)) return undefined;
  const state = active.traceState?.serialize();
  return { traceparent: `00-${active.traceId}-${active.spanId}-${active.traceFlags.toString(16).padStart(2, '0')}`, ...(state ? { tracestate: state } : {}) };
}

/** Runs `fn` with `span` current, so what it calls in this process (an in-process function) is its child. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Ends a span; with `failure`, its status is error with that message (a
 * status line or error text, never a payload) and `error.type` its kind.
 */
export function endSpan(span: Span, failure?: { message: string; type: string }, attributes?: Attributes): void {
  if (attributes) span.setAttributes(attributes);
  if (failure) {
    span.setAttribute('error.type', failure.type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }
  span.end();
}

/**
 * Where a call went, as the semantic conventions' `server.address` and
 * `server.port`: the host and port only, since a URL's path or query may
 * carry a secret. Nothing for a URL that does not parse.
 */
export function serverAttributes(url: string): Attributes {
  try {
    const u = new URL(url);
    return { 'server.address': u.hostname, 'server.port': u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  } catch {
    return {};
  }
}

/**
 * Flushes the spans of whichever tracer provider the host registered, if it
 * can (an SDK's `forceFlush`), within `timeoutMs`: a draining server's last
 * spans go out before the process exits. Nothing to do under the no-op API.
 */
export async function flushSpans(timeoutMs: number): Promise<void> {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (typeof global.getDelegate === 'function' ? global.getDelegate() : global) as { forceFlush?: () => Promise<void> };
  if (typeof provider.forceFlush !== 'function') return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
  try {
    // Telemetry, not data: a collector that does not answer must not hold the shutdown.
    await Promise.race([provider.forceFlush().catch(() => {}), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
