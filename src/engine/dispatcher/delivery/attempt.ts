/**
 * One attempt of a delivery: resolve the target (URL or in-process handler)
 * and headers, build and sign the body, send it. Configuration problems (an
 * unset env variable) are failures of the attempt like any other, so they
 * retry and end up visible in the dead letters rather than crash anything.
 *
 * Throws only when the dispatcher aborts the attempt (drain at shutdown).
 */
import type { ClaimedDelivery } from '../../events/sql/claimDeliveries.js';
import type { ActiveTrigger } from '../../events/triggers/registry.js';
import type { InProcessHandler, TriggerTarget } from '../../events/triggers/triggerDefinition.js';
import { ATTR, endSpan, serverAttributes, SpanKind, startSpan, withSpan, type Span } from '../../../kit/telemetry.js';
import type { TraceContext } from '../../../kit/trace.js';
import { webhookBody } from './body.js';
import { deliveryHeaders } from './headers.js';
import { runInProcess } from './inProcess.js';
import { decideOutcome } from './outcome.js';
import type { WebhookSigner } from './signer.js';
import { renderUrlTemplate } from './urlTemplate.js';
import { postWebhook, type HttpResult } from './webhook.js';

export interface AttemptContext {
  signer: WebhookSigner;
  env: Readonly<Record<string, string | undefined>>;
  handlers: Readonly<Record<string, InProcessHandler>>;
}

type AttemptedTrigger = Pick<ActiveTrigger, 'name' | 'definition' | 'policy'> & Partial<Pick<ActiveTrigger, 'outcome'>>;

/**
 * The attempt as a span (src/kit/telemetry.ts): the child of the event's
 * trace context (its mutation's span), and the parent of the function's, as
 * the webhook's `traceparent` or, in-process, the current span. Its outcome
 * is the one the trigger's policy decides (./outcome.ts); any but delivered
 * is an error. Without an SDK the span is the API's no-op and the traceparent
 * is continued as before (./headers.ts).
 */
export async function attemptDelivery(trigger: AttemptedTrigger, d: ClaimedDelivery, ctx: AttemptContext, signal: AbortSignal): Promise<HttpResult> {
  const inProcess = trigger.definition.target.kind === 'inProcess';
  const { span, context } = startSpan(`deliver ${trigger.name}`, d.event.traceContext ?? undefined, {
    kind: inProcess ? SpanKind.INTERNAL : SpanKind.CLIENT,
    attributes: {
      [ATTR.trigger]: trigger.name,
      [ATTR.delivery]: d.id,
      [ATTR.event]: d.event.id,
      [ATTR.eventType]: d.event.type,
      [ATTR.attempt]: d.attempts + 1,
      ...(inProcess ? {} : { 'http.request.method': 'POST' }),
    },
  });
  const startedAt = new Date();
  const t0 = performance.now();
  let result: HttpResult;
  try {
    result = await withSpan(span, () => send(trigger, d, ctx, signal, span, context));
  } catch (err) {
    // The drain aborted it: handed back uncounted, which is no outcome of the target's.
    endSpan(span, undefined, { [ATTR.outcome]: 'released' });
    throw err;
  }
  if (span.isRecording()) {
    const attempt = decideOutcome(trigger.policy, d, result, startedAt, performance.now() - t0, trigger.outcome).attempt!;
    const status = result.kind === 'response' ? { 'http.response.status_code': result.status } : {};
    const failure =
      attempt.outcome === 'delivered'
        ? undefined
        : { message: attempt.error ?? attempt.outcome, type: result.kind === 'response' ? String(result.status) : result.timedOut ? 'timeout' : 'error' };
    endSpan(span, failure, { [ATTR.outcome]: attempt.outcome, ...status });
  } else {
    span.end();
  }
  return result;
}

async function send(trigger: AttemptedTrigger, d: ClaimedDelivery, ctx: AttemptContext, signal: AbortSignal, span: Span, trace: TraceContext | undefined): Promise<HttpResult> {
  const def = trigger.definition;
  const timeoutMs = trigger.policy.timeoutSec * 1000;
  const payload = webhookBody(trigger.name, d, def.match);
  const target = def.target;
  if (target.kind === 'inProcess') {
    const handler = ctx.handlers[target.handler];
    if (!handler) return { kind: 'error', error: `no in-process handler "${target.handler}" in this process`, timedOut: false };
    return runInProcess(handler, payload, timeoutMs, signal, { id: d.id, eventId: d.event.id });
  }
  const url = webhookUrl(target, ctx.env);
  if ('missing' in url) return { kind: 'error', error: `webhook URL variable ${url.missing} is not set`, timedOut: false };
  span.setAttributes(serverAttributes(url.url));
  const custom: Record<string, string> = {};
  for (const h of def.headers ?? []) {
    const value = h.value ?? (h.valueFromEnv ? ctx.env[h.valueFromEnv] : undefined);
    // The variable's name may be shown; its value never is.
    if (value === undefined) return { kind: 'error', error: `header ${h.name}: variable ${h.valueFromEnv ?? '?'} is not set`, timedOut: false };
    custom[h.name] = value;
  }
  const body = JSON.stringify(payload);
  const headers = deliveryHeaders({
    signer: ctx.signer,
    eventId: d.event.id,
    deliveryId: d.id,
    triggerName: trigger.name,
    body,
    traceContext: d.event.traceContext,
    trace,
    custom,
  });
  return postWebhook(url.url, body, headers, timeoutMs, signal);
}

/** Filled in per attempt and never stored: the resolved URL may carry a secret. */
function webhookUrl(target: Exclude<TriggerTarget, { kind: 'inProcess' }>, env: AttemptContext['env']): { url: string } | { missing: string } {
  if (target.kind === 'webhook') return renderUrlTemplate(target.url, env);
  const url = env[target.env];
  return url ? { url } : { missing: target.env };
}
