/**
 * The refill rule: how many deliveries of each trigger the claim loop asks
 * for, given the attempts running. Slots are shared fairly between triggers,
 * so that one trigger whose requests hang cannot starve the others: a slot
 * held by a hung request cannot be taken back until its timeout, so the rule
 * must keep slots back before they are gone, not after.
 *
 * With C slots (concurrency) and n triggers this dispatcher can serve:
 * - one trigger (n = 1) may use every slot: there is no one to keep any for;
 * - otherwise each trigger's share is ⌊C / n⌋ (at least 1), and a reserve of
 *   R = ⌈C / 4⌉ slots is kept for the others: a trigger may claim up to its
 *   share whenever slots are free, and beyond its share only while R slots
 *   stay free afterwards, and never hold more than C − R. So when one trigger
 *   hangs, every other trigger still finds at least R free slots, whatever
 *   was configured. (If two triggers hang at once, the second can take at
 *   most its share of what remains; a cap per trigger, `concurrency`, is the
 *   tool for partners known to be slow.)
 * - Batching: while work is in flight, wait until at least half a batch of
 *   slots is free (the low-water mark, at most R / 2 when there is a reserve):
 *   refilling one slot at a time would cost a claim statement per delivery.
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
   * What to claim now of the triggers in `servable`, with `inFlight`
   * attempts running per trigger; null means wait until more slots are free.
   */
  plan(servable: readonly string[], inFlight: ReadonlyMap<string, number>): ClaimPlan | null;
}

export function fairRefill(concurrency: number, batchSize: number): RefillRule {
  const batch = Math.max(1, Math.min(batchSize, concurrency));
  return {
    plan(servable, inFlight) {
      let running = 0;
      for (const n of inFlight.values()) running += n;
      const free = Math.min(concurrency - running, batch);
      if (free <= 0 || servable.length === 0) return null;
      if (servable.length === 1) {
        const lowWater = Math.max(1, Math.floor(batch / 2));
        if (running > 0 && free < lowWater) return null;
        return { total: free, triggers: [{ trigger: servable[0]!, limit: free }] };
      }
      const reserve = Math.ceil(concurrency / 4);
      const share = Math.max(1, Math.floor(concurrency / servable.length));
      // Below half the reserve: when one trigger hangs, the others refill from what is left, not from an empty reserve.
      const lowWater = Math.max(1, Math.min(Math.floor(batch / 2), Math.floor(reserve / 2)));
      if (running > 0 && free < lowWater) return null;
      const triggers: TriggerLimit[] = [];
      for (const trigger of servable) {
        const held = inFlight.get(trigger) ?? 0;
        const withinShare = share - held;
        const beyondShare = Math.min(free - reserve, concurrency - reserve - held);
        const limit = Math.min(free, Math.max(withinShare, beyondShare, 0));
        if (limit > 0) triggers.push({ trigger, limit });
      }
      // The limits may add up to more than the free slots: the claim takes round-robin across triggers up to `total`.
      return triggers.length ? { total: free, triggers } : null;
    },
  };
}
