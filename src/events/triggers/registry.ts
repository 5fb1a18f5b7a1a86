/**
 * The dispatcher's view of the triggers: definitions read from the database
 * (so every dispatcher delivers by the same rules, whoever synced them), and
 * which of them this process can serve (an in-process target needs its
 * handler registered here).
 */
import { loadTriggers } from '../sql/loadTriggers.js';
import type { Queryable } from '../sql/queryable.js';
import { retryPolicy, type InProcessHandler, type RetryPolicy, type TriggerDefinition } from '../triggerDefinition.js';

export interface ActiveTrigger {
  name: string;
  definition: TriggerDefinition;
  policy: RetryPolicy;
}

export class TriggerRegistry {
  private triggers = new Map<string, ActiveTrigger>();
  private servable: string[] = [];

  constructor(
    private readonly sql: Queryable,
    private readonly handlers: Readonly<Record<string, InProcessHandler>>,
  ) {}

  async refresh(): Promise<void> {
    const rows = await loadTriggers(this.sql);
    const next = new Map<string, ActiveTrigger>();
    for (const row of rows) next.set(row.name, { name: row.name, definition: row.definition, policy: retryPolicy(row.definition) });
    this.triggers = next;
    this.servable = rows
      .filter((r) => r.definition.target.kind !== 'inProcess' || Object.hasOwn(this.handlers, r.definition.target.handler))
      .map((r) => r.name);
  }

  get(name: string): ActiveTrigger | undefined {
    return this.triggers.get(name);
  }

  /** Names of the triggers whose deliveries this process may claim. */
  servableNames(): string[] {
    return this.servable;
  }
}
