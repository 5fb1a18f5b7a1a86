/**
 * The registry refresher (a dispatcher service): reads the trigger
 * definitions from the database at start and every 5 s after, so every
 * dispatcher delivers by the rules in the database, whoever synced them
 * (pause state is read by each claim itself). A claimed delivery of a
 * trigger not loaded yet asks for a read at once (refreshSoon). stop() ends
 * the timer and waits for a read in flight.
 */
import type { TriggerRegistry } from '../events/triggers/registry.js';
import { errorMessage } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';

export const REGISTRY_REFRESH_MS = 5_000;

export interface RegistryRefresherOptions {
  registry: Pick<TriggerRegistry, 'refresh' | 'invalid'>;
  log: Logger;
  everyMs?: number;
}

export class RegistryRefresher implements Service {
  readonly name = 'registry refresher';
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;

  constructor(private readonly o: RegistryRefresherOptions) {}

  async start(): Promise<void> {
    await this.o.registry.refresh();
    const { invalid } = this.o.registry;
    if (invalid.length) this.o.log.error({ triggers: invalid }, 'event triggers with invalid definitions are not delivered');
    this.timer = setInterval(() => this.refreshSoon(), this.o.everyMs ?? REGISTRY_REFRESH_MS);
  }

  /** Re-read now, coalesced with a read in flight. */
  refreshSoon(): void {
    if (this.timer === null) return;
    this.reading ??= this.o.registry
      .refresh()
      .catch((err: unknown) => this.o.log.debug({ err: errorMessage(err) }, 'reading the trigger definitions failed; will retry'))
      .finally(() => (this.reading = null));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reading;
  }
}
