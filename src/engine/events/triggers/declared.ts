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

export function uniqueTriggers(declared: readonly DeclaredTrigger[]): TriggerDefinition[] {
  const seen = new Map<string, string>();
  for (const { definition, origin } of declared) {
    const first = seen.get(definition.name);
    if (first !== undefined) {
      const where = first === origin ? `twice in ${origin}` : `twice: in ${first} and in ${origin}`;
      throw new TriggerDefinitionError(`event trigger "${definition.name}" is declared ${where}`);
    }
    seen.set(definition.name, origin);
  }
  return declared.map((d) => d.definition);
}
