/**
 * Where a trigger delivers, in words safe to show anywhere (the admin API, a
 * pause reason, a log line): a webhook URL loses its credentials and query
 * string, a template's variables stay unfilled, an env target names only its
 * variable.
 */
import { templateVariables } from '../../dispatcher/delivery/urlTemplate.js';
import type { TriggerTarget } from './triggerDefinition.js';

export function describeTarget(target: TriggerTarget): string {
  if (target.kind === 'inProcess') return `in-process handler ${target.handler}`;
  if (target.kind === 'webhookFromEnv') return `webhook from env ${target.env}`;
  // A template ({{BASE_URL}}/x) is shown as written: its variables' values never leave the dispatcher.
  if (templateVariables(target.url).length) return `webhook ${target.url.split('?')[0]}${target.url.includes('?') ? '?…' : ''}`;
  try {
    const u = new URL(target.url);
    return `webhook ${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return 'webhook (invalid URL)';
  }
}
