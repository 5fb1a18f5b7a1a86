/**
 * The environment variables a process's triggers read at each attempt
 * (webhook_from_env, `{{VAR}}` in a webhook URL, value_from_env headers)
 * that are unset, found once at start: `dispatch` refuses to start on them
 * in production, where every delivery of such a trigger would fail, and
 * warns elsewhere. The rule for "unset" is the attempt's (./attempt.ts): an
 * empty URL variable counts as unset, an empty header value does not.
 */
import type { TriggerDefinition } from '../../events/triggers/triggerDefinition.js';
import { templateVariables } from './urlTemplate.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `VAR (what needs it), …` for every unset variable, in trigger order; undefined when none is. */
export function describeUnsetVariables(triggers: readonly TriggerDefinition[], env: Env): string | undefined {
  const needs = new Map<string, string[]>();
  const need = (variable: string, what: string) => needs.set(variable, [...(needs.get(variable) ?? []), what]);
  for (const def of triggers) {
    if (def.enabled === false) continue;
    const { target } = def;
    if (target.kind === 'inProcess') continue;
    const urlVariables = target.kind === 'webhookFromEnv' ? [target.env] : templateVariables(target.url);
    for (const variable of urlVariables) if (!env[variable]) need(variable, `webhook URL of trigger ${def.name}`);
    for (const h of def.headers ?? []) {
      if (h.value === undefined && h.valueFromEnv && env[h.valueFromEnv] === undefined) need(h.valueFromEnv, `header ${h.name} of trigger ${def.name}`);
    }
  }
  if (needs.size === 0) return undefined;
  return [...needs].map(([variable, whats]) => `${variable} (${whats.join(', ')})`).join(', ');
}
