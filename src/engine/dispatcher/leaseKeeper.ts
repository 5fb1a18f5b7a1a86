/**
 * The lease keeper (a dispatcher service): a heartbeat every leaseMs/3
 * (at least 250 ms) extending the leases this dispatcher still holds, those
 * of deliveries being attempted and of outcomes not yet written
 * (sql/extendLeases.ts). Short leases kept alive this way let a SIGKILLed
 * dispatcher's deliveries be reclaimed within one lease. It is stopped after
 * the completer, so leases live until the outcomes are written; a lease lost
 * anyway (a long stall) shows when its outcome is written and not applied.
 */
import type { Sql } from '../db/client.js';
import { extendLeases } from '../events/sql/extendLeases.js';
import { errorMessage } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from '../runtime/service.js';

export interface LeaseKeeperOptions {
  sql: Sql;
  dispatcherId: string;
  log: Logger;
  leaseMs: number;
  /** The deliveries whose leases this dispatcher still needs. */
  held(): string[];
}

export class LeaseKeeper implements Service {
  readonly name = 'lease keeper';
  private timer: NodeJS.Timeout | null = null;
  /** Beats may overlap: one stuck on a dead connection must not stop the next from extending on another. */
  private readonly beats = new Set<Promise<void>>();

  constructor(private readonly o: LeaseKeeperOptions) {}

  async start(): Promise<void> {
    const everyMs = Math.max(250, Math.floor(this.o.leaseMs / 3));
    this.timer = setInterval(() => {
      const beat = this.extend().finally(() => this.beats.delete(beat));
      this.beats.add(beat);
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.beats);
  }

  private async extend(): Promise<void> {
    const ids = this.o.held();
    if (ids.length === 0) return;
    try {
      await extendLeases(this.o.sql, this.o.dispatcherId, ids, this.o.leaseMs);
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, 'lease heartbeat failed');
    }
  }
}
