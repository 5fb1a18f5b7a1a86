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
import { webhookBody } from './body.js';
import { deliveryHeaders } from './headers.js';
import { runInProcess } from './inProcess.js';
import type { WebhookSigner } from './signer.js';
import { renderUrlTemplate } from './urlTemplate.js';
import { postWebhook, type HttpResult } from './webhook.js';

export interface AttemptContext {
  signer: WebhookSigner;
  env: Readonly<Record<string, string | undefined>>;
  handlers: Readonly<Record<string, InProcessHandler>>;
}

export async function attemptDelivery(trigger: Pick<ActiveTrigger, 'name' | 'definition' | 'policy'>, d: ClaimedDelivery, ctx: AttemptContext, signal: AbortSignal): Promise<HttpResult> {
  const def = trigger.definition;
  const timeoutMs = trigger.policy.timeoutSec * 1000;
  const payload = webhookBody(trigger.name, d, def.match);
  const target = def.target;
  if (target.kind === 'inProcess') {
    const handler = ctx.handlers[target.handler];
    if (!handler) return { kind: 'error', error: `no in-process handler "${target.handler}" in this process`, timedOut: false };
    return runInProcess(handler, payload, timeoutMs, signal);
  }
  const url = webhookUrl(target, ctx.env);
  if ('missing' in url) return { kind: 'error', error: `webhook URL variable ${url.missing} is not set`, timedOut: false };
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
