/**
 * The dispatcher's view of the triggers: definitions read from the database
 * (so every dispatcher delivers by the same rules, whoever synced them), and
 * which of them this process can serve (an in-process target needs its
 * handler registered here).
 */
import { errorMessage } from '../../lib.js';
import { loadTriggers } from '../sql/loadTriggers.js';
import type { Queryable } from '../sql/queryable.js';
import { outcomePolicy, retryPolicy, type InProcessHandler, type OutcomePolicy, type RetryPolicy, type TriggerDefinition } from './triggerDefinition.js';
import { routingColumns } from './routing.js';

export interface ActiveTrigger {
  name: string;
  definition: TriggerDefinition;
  policy: RetryPolicy;
  outcome: OutcomePolicy;
}

export class TriggerRegistry {
  private triggers = new Map<string, ActiveTrigger>();
  private servable: string[] = [];
  /** Rows whose definition is not valid (written by hand or by another version): never claimed. */
  invalid: Array<{ name: string; reason: string }> = [];

  constructor(
    private readonly sql: Queryable,
    private readonly handlers: Readonly<Record<string, InProcessHandler>>,
  ) {}

  async refresh(): Promise<void> {
    const next = new Map<string, ActiveTrigger>();
    const invalid: Array<{ name: string; reason: string }> = [];
    for (const row of await loadTriggers(this.sql)) {
      try {
        routingColumns(row.definition);
      } catch (err) {
        invalid.push({ name: row.name, reason: errorMessage(err) });
        continue;
      }
      next.set(row.name, { name: row.name, definition: row.definition, policy: retryPolicy(row.definition), outcome: outcomePolicy(row.definition) });
    }
    this.triggers = next;
    this.invalid = invalid;
    this.servable = [...next.values()]
      .filter((t) => t.definition.target.kind !== 'inProcess' || Object.hasOwn(this.handlers, t.definition.target.handler))
      .map((t) => t.name);
  }

  get(name: string): ActiveTrigger | undefined {
    return this.triggers.get(name);
  }

  /** Names of the triggers whose deliveries this process may claim. */
  servableNames(): string[] {
    return this.servable;
  }
}
