/**
 * Triggers as a process declares them, each with where it came from (the
 * app, a file of Hasura metadata), so that a name declared twice is refused
 * with one line naming both places.
 */
import type { TriggerDefinition } from './triggerDefinition.js';
import { TriggerDefinitionError } from './routing.js';

export interface DeclaredTrigger {
  definition: TriggerDefinition;
  /** Where it was declared, for errors: "the app food-delivery", a file path. */
  origin: string;
}

/** The one wording of the rule, naming where the name was declared first and again. */
export function declaredTwice(name: string, first: string, again: string): string {
  return `event trigger "${name}" is declared ${first === again ? `twice in ${again}` : `twice: in ${first} and in ${again}`}`;
}

export function uniqueTriggers(declared: readonly DeclaredTrigger[]): TriggerDefinition[] {
  const seen = new Map<string, string>();
  for (const { definition, origin } of declared) {
    const first = seen.get(definition.name);
    if (first !== undefined) throw new TriggerDefinitionError(declaredTwice(definition.name, first, origin));
    seen.set(definition.name, origin);
  }
  return declared.map((d) => d.definition);
}
