/**
 * The environment variables a process's webhooks read at each attempt
 * (webhook_from_env, `{{VAR}}` in a webhook URL, value_from_env headers)
 * that are unset, found once at start: those of its triggers and of its
 * workflows' handlers (each a trigger of its own at sync, whose every step
 * call would fail just the same). `dispatch` refuses to start on them in
 * production and warns elsewhere. The rule for "unset" is the attempt's
 * (./attempt.ts): an empty URL variable counts as unset, an empty header
 * value does not.
 */
import type { TriggerDefinition, TriggerTarget } from '../../events/triggers/triggerDefinition.js';
import type { WorkflowDefinition } from '../../workflows/definition.js';
import { templateVariables } from './urlTemplate.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One webhook a process calls, and how a message names what calls it. */
interface Webhook {
  what: string;
  target: TriggerTarget;
  headers: NonNullable<TriggerDefinition['headers']>;
}

/** Every webhook these enabled triggers and these workflows' handlers call, triggers first, in declaration order. */
function webhooks(triggers: readonly TriggerDefinition[], workflows: readonly WorkflowDefinition[]): Webhook[] {
  return [
    ...triggers.filter((def) => def.enabled !== false).map((def) => ({ what: `trigger ${def.name}`, target: def.target, headers: def.headers ?? [] })),
    ...workflows.flatMap((w) => Object.entries(w.handlers).map(([key, h]) => ({ what: `workflow ${w.name}'s handler ${key}`, target: h.target, headers: [] }))),
  ];
}

/** `VAR (what needs it), …` for every unset variable, in the order first needed; undefined when none is. */
export function describeUnsetVariables(triggers: readonly TriggerDefinition[], env: Env, workflows: readonly WorkflowDefinition[] = []): string | undefined {
  const needs = new Map<string, string[]>();
  const need = (variable: string, what: string) => needs.set(variable, [...(needs.get(variable) ?? []), what]);
  for (const { what, target, headers } of webhooks(triggers, workflows)) {
    if (target.kind === 'inProcess') continue;
    const urlVariables = target.kind === 'webhookFromEnv' ? [target.env] : templateVariables(target.url);
    for (const variable of urlVariables) if (!env[variable]) need(variable, `webhook URL of ${what}`);
    for (const h of headers) {
      if (h.value === undefined && h.valueFromEnv && env[h.valueFromEnv] === undefined) need(h.valueFromEnv, `header ${h.name} of ${what}`);
    }
  }
  if (needs.size === 0) return undefined;
  return [...needs].map(([variable, whats]) => `${variable} (${whats.join(', ')})`).join(', ');
}
