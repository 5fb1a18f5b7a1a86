/**
 * The span of each GraphQL query and mutation (an envelop plugin), when
 * OpenTelemetry is on (../runtime/telemetry.ts); off, the plugin is not
 * installed at all and the operation path pays one boolean check.
 *
 * Its parent is the caller's `traceparent` if valid (src/kit/trace.ts's
 * rule; a new trace otherwise), over HTTP, SSE and WebSocket alike: the
 * transports hand it to `buildContext`, which notes it here. Its context
 * replaces the operation's `events.traceContext` before any resolver runs,
 * so the events a mutation commits carry the mutation span's context, and
 * their deliveries' attempt spans are its children. Subscriptions get no
 * span: they live for as long as the client stays.
 *
 * Why not @envelop/opentelemetry: it pulls the 1.x SDK line beside ours,
 * and spans from an ambient context rather than the propagated headers.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ATTR, endSpan, SpanKind, startSpan, type Parent } from '../../kit/telemetry.js';
import type { Config } from '../config.js';
import type { EventContext } from '../events/transaction.js';
import type { Context } from '../graphql/context.js';
import { tracesEnabled } from '../runtime/telemetry.js';

/** The caller's trace headers of each operation, as they arrived: the parent of its span. */
const callers = new WeakMap<EventContext, Parent>();
let tracing = false;

/** From `buildContext`: remembers the caller's trace headers while tracing is on (and costs a check while it is off). */
export function noteCallerTrace(events: EventContext, traceparent: string | null | undefined, tracestate: string | null | undefined): void {
  if (tracing && traceparent) callers.set(events, { traceparent, tracestate });
}

/** The plugin, or none when tracing is off. */
export function operationTracing(config: Config): Plugin<Context>[] {
  if (!tracesEnabled(config)) return [];
  tracing = true;
  return [traceOperations()];
}

function traceOperations(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const op = getOperationAST(args.document, args.operationName);
      if (!op || op.operation === 'subscription') return;
      const ctx = args.contextValue;
      const type = op.operation;
      const name = op.name?.value;
      const { span, context } = startSpan(name ? `${type} ${name}` : type, callers.get(ctx.events), {
        kind: SpanKind.SERVER,
        attributes: {
          'graphql.operation.type': type,
          ...(name ? { 'graphql.operation.name': name } : {}),
          // A write-back: which trigger's delivery caused it (the loop guard's and the causal tree's cause).
          ...(ctx.events.causedBy ? { [ATTR.trigger]: ctx.events.causedBy } : {}),
          ...(ctx.events.cause ? { [ATTR.delivery]: ctx.events.cause.delivery } : {}),
        },
      });
      if (context) ctx.events.traceContext = { ...context };
      return {
        onExecuteDone({ result }) {
          const errors = Symbol.asyncIterator in result ? [] : (result.errors ?? []);
          const codes = errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'GraphQLError'));
          endSpan(span, codes.length ? { message: codes.join(', '), type: codes[0]! } : undefined, {
            ...(ctx.events.eventIds.length ? { [ATTR.events]: [...ctx.events.eventIds] } : {}),
          });
        },
      };
    },
  };
}
