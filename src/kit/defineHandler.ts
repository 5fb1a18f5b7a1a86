/**
 * `defineHandler`: a business-logic function as a name, the event types it
 * accepts, a schema for the event data it reads, and `handle(event, tools)`.
 * `invoke` is the one path every transport (the fetch core, in-process) runs:
 * route check, data check, trace continuation, the call, one log line,
 * and its span (./telemetry.ts: the delivery's child, the write-backs' parent).
 */
import type { z } from 'zod';
import type { HasuraEventPayload } from './contract.js';
import { asFailure, PermanentFailure } from './errors.js';
import { describeIssue, eventType, toHandlerEvent, traceparentOf, type HandlerEvent } from './event.js';
import { createGraphqlClient, type ApiTarget, type GraphqlClient } from './graphqlClient.js';
import type { Logger } from './log.js';
import { activeTrace, ATTR, endSpan, SpanKind, startSpan, type Parent } from './telemetry.js';
import { continueTrace } from './trace.js';

export interface HandlerTools extends GraphqlClient {
  /** Child logger bound to this function, event and trace. */
  log: Logger;
  /**
   * The delivery's idempotency key (its webhook-id: the event id; for a workflow step, the step id), the same on
   * every redelivery: pass it on to whatever this call changes outside (a provider's charge or refund), so a call
   * run twice takes effect once. The kit does not do that for you.
   */
  idempotencyKey: string;
}

/** What `handle` returns: a short word for the log and the response (`validated`, `already-applied`). */
export type Outcome = string;

/** Or an outcome with a JSON result, answered in the 2xx body as `result` (a workflow step's result). */
export interface HandlerReply {
  outcome?: Outcome;
  result: unknown;
}

export interface HandlerSpec<S extends z.ZodType> {
  /** Also its URL path: POST /<name>. */
  name: string;
  /** Domain event types it accepts; anything else is refused as misrouted (422). */
  on: readonly string[];
  /** The part of `event.data.new` it reads; an event without it is refused (422). */
  data: S;
  handle(event: HandlerEvent<z.infer<S>>, tools: HandlerTools): Promise<Outcome | HandlerReply | void>;
}

/** How a call reaches the API and reports, supplied by the transport. */
export interface HandlerRuntime {
  api: ApiTarget;
  log: Logger;
  /** The delivery's `traceparent` header; falls back to the event's trace_context. */
  traceparent?: string;
  tracestate?: string;
  /** The delivery being handled (x-threefactor-delivery, x-threefactor-event): passed back on the write-back as its cause. */
  delivery?: { id: string; eventId: string };
  /** Aborts the function's API calls (delivery timed out, sender gone, dispatcher draining). */
  signal?: AbortSignal;
  /** The delivery's webhook-id header; defaults to the event id (in-process, the two are the same). */
  idempotencyKey?: string;
  /** Receives the JSON result of a handle that returned one (HandlerReply), before invoke resolves. */
  onResult?(result: unknown): void;
}

export interface Handler {
  name: string;
  on: readonly string[];
  /** Run once for one delivery; resolves to the outcome or throws a HandlerFailure. */
  invoke(payload: HasuraEventPayload, runtime: HandlerRuntime): Promise<Outcome>;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function defineHandler<S extends z.ZodType>(spec: HandlerSpec<S>): Handler {
  if (!NAME.test(spec.name)) throw new Error(`handler name "${spec.name}" must be kebab-case (it is a URL path)`);
  return {
    name: spec.name,
    on: spec.on,
    async invoke(payload, runtime) {
      const started = performance.now();
      const type = eventType(payload);
      // The delivery's headers; in-process, the dispatcher's attempt span; else the event's own trace.
      const parent: Parent = runtime.traceparent
        ? { traceparent: runtime.traceparent, tracestate: runtime.tracestate }
        : (activeTrace() ?? { traceparent: traceparentOf(payload) });
      const { span, context } = startSpan(`handle ${spec.name}`, parent, {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR.handler]: spec.name,
          [ATTR.trigger]: payload.trigger.name,
          [ATTR.event]: payload.id,
          [ATTR.attempt]: payload.delivery_info.current_retry + 1,
          ...(type ? { [ATTR.eventType]: type } : {}),
          ...(runtime.delivery ? { [ATTR.delivery]: runtime.delivery.id } : {}),
        },
      });
      const trace = context ?? continueTrace(parent.traceparent, parent.tracestate);
      const log = runtime.log.child({
        handler: spec.name,
        eventId: payload.id,
        trigger: payload.trigger.name,
        type,
        attempt: payload.delivery_info.current_retry,
        traceId: trace.traceparent.split('-')[1],
      });
      try {
        if (!type || !spec.on.includes(type)) {
          throw new PermanentFailure(`${spec.name} handles ${spec.on.join(', ')}, not ${type ?? 'an event without a type'}`);
        }
        const data = spec.data.safeParse(payload.event.data.new);
        if (!data.success) throw new PermanentFailure(`${type} event lacks what ${spec.name} needs: ${describeIssue(data.error)}`);
        const client = createGraphqlClient(runtime.api, {
          trigger: payload.trigger.name,
          delivery: runtime.delivery,
          traceparent: trace.traceparent,
          tracestate: trace.tracestate,
          signal: runtime.signal,
        });
        const returned = await spec.handle(toHandlerEvent(payload, data.data), { ...client, log, idempotencyKey: runtime.idempotencyKey ?? payload.id });
        let outcome: Outcome = 'done';
        if (typeof returned === 'string') outcome = returned;
        else if (returned) {
          outcome = returned.outcome ?? 'done';
          runtime.onResult?.(returned.result);
        }
        log.info({ outcome, ms: elapsed(started) }, 'handled');
        endSpan(span, undefined, { [ATTR.outcome]: outcome, 'http.response.status_code': 200 });
        return outcome;
      } catch (err) {
        const failure = asFailure(err);
        // An unexpected error is a bug: keep its stack in the log (never in the response).
        const detail = failure === err ? { error: failure.message } : { err };
        log.warn({ status: failure.status, ...detail, ms: elapsed(started) }, 'handler failed');
        endSpan(span, { message: failure.message, type: err instanceof Error ? err.name : 'Error' }, { 'http.response.status_code': failure.status });
        throw failure;
      }
    },
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
