/**
 * The refill rule: how many deliveries of each trigger the claim loop asks
 * for, given the attempts running. Slots are shared fairly between triggers,
 * so that one trigger whose requests hang cannot starve the others: a slot
 * held by a hung request cannot be taken back until its timeout, so the rule
 * must keep slots back before they are gone, not after.
 *
 * With C = `concurrency` and n triggers this dispatcher can serve:
 * - one trigger (n = 1) may use the C slots, as any dispatcher would;
 * - otherwise the dispatcher keeps a reserve of R = ⌈C / 4⌉ slots on top of
 *   the C (C + R in all): each trigger may still hold up to C, so one busy
 *   trigger claims and runs exactly as it would alone (the drain costs
 *   nothing), but it may claim beyond its share, ⌊(C + R) / n⌋, only while R
 *   slots stay free afterwards. So when one trigger hangs, every other
 *   trigger still finds R free slots, whatever was configured. (If two
 *   triggers hang at once, the second can take at most its share of what is
 *   left; a cap per trigger, `concurrency`, is the tool for partners known to
 *   be slow.)
 * - Batching: a trigger with attempts in flight waits until it may claim at
 *   least half a batch (the low-water mark): refilling one slot at a time
 *   would cost a claim statement per delivery. A trigger with nothing in
 *   flight claims whatever it may at once: no slot of its own is coming back
 *   to make the batch bigger.
 */

export interface TriggerLimit {
  trigger: string;
  limit: number;
}

/** A claim to make: at most `limit` of each trigger, and at most `total` in all (the free slots). */
export interface ClaimPlan {
  total: number;
  triggers: TriggerLimit[];
}

export interface RefillRule {
  /**
   * What to claim now of the triggers in `servable` (or only of those in
   * `only`; the shares are still those of all of `servable`), with
   * `inFlight` attempts running per trigger; null means nothing to claim
   * until more slots are free.
   */
  plan(servable: readonly string[], inFlight: ReadonlyMap<string, number>, only?: ReadonlySet<string>): ClaimPlan | null;
  /**
   * How many more deliveries of `trigger` may start now by the same shares,
   * with no batch and no low-water mark: for deliveries this process makes
   * for itself (eager step calls, ./eagerCalls.ts), which cost no claim.
   */
  room(servable: readonly string[], inFlight: ReadonlyMap<string, number>, trigger: string): number;
}

export function fairRefill(concurrency: number, batchSize: number): RefillRule {
  const batch = Math.max(1, Math.min(batchSize, concurrency));
  const lowWater = Math.max(1, Math.floor(batch / 2));
  /** The free slots, and how many of them a trigger with `held` running may take. */
  const shares = (servable: readonly string[], inFlight: ReadonlyMap<string, number>) => {
    const reserve = servable.length > 1 ? Math.ceil(concurrency / 4) : 0;
    const slots = concurrency + reserve;
    let running = 0;
    for (const n of inFlight.values()) running += n;
    const free = slots - running;
    const share = Math.max(1, Math.floor(slots / servable.length));
    return { free, limit: (held: number) => Math.min(free, concurrency - held, Math.max(share - held, free - reserve)) };
  };
  return {
    plan(servable, inFlight, only) {
      if (servable.length === 0) return null;
      const { free, limit: limitFor } = shares(servable, inFlight);
      if (free <= 0) return null;
      const triggers: TriggerLimit[] = [];
      for (const trigger of servable) {
        if (only && !only.has(trigger)) continue;
        const held = inFlight.get(trigger) ?? 0;
        const limit = Math.min(batch, limitFor(held));
        if (limit > 0 && (held === 0 || limit >= lowWater)) triggers.push({ trigger, limit });
      }
      // The limits may add up to more than the free slots: the claim takes the oldest, each trigger within its limit, up to `total`.
      return triggers.length ? { total: Math.min(free, batch), triggers } : null;
    },
    room(servable, inFlight, trigger) {
      if (!servable.includes(trigger)) return 0;
      return Math.max(0, shares(servable, inFlight).limit(inFlight.get(trigger) ?? 0));
    },
  };
}
