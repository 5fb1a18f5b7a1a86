/**
 * The rescuer (a dispatcher service): every pollMs, hands deliveries whose
 * lease expired (their dispatcher was killed, hung or lost its database)
 * back to pending (sql/reclaimExpiredLeases.ts) and wakes the claim loop
 * when it did. Every dispatcher runs one; the statement skips rows another
 * is changing. stop() ends the timer and waits for a pass in flight.
 */
import type { Sql } from '../db/client.js';
import { reclaimExpiredLeases } from '../events/sql/reclaimExpiredLeases.js';
import { errorMessage } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';

export interface RescuerOptions {
  sql: Sql;
  log: Logger;
  everyMs: number;
  /** Deliveries were reclaimed: they are claimable now. */
  onReclaimed(): void;
}

export class Rescuer implements Service {
  readonly name = 'rescuer';
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;

  constructor(private readonly o: RescuerOptions) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void (this.pass ??= this.rescue().finally(() => (this.pass = null))), this.o.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }

  private async rescue(): Promise<void> {
    try {
      const reclaimed = await reclaimExpiredLeases(this.o.sql);
      if (reclaimed.length === 0) return;
      this.o.log.warn(
        { count: reclaimed.length, from: [...new Set(reclaimed.map((r) => r.lostBy))] },
        'reclaimed deliveries whose lease expired (their dispatcher stopped without releasing them)',
      );
      this.o.onReclaimed();
    } catch (err) {
      this.o.log.debug({ err: errorMessage(err) }, 'reclaiming expired leases failed; will retry');
    }
  }
}
