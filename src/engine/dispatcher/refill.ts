/**
 * The refill rule: how many deliveries the claim loop asks for, given the
 * attempts running. One seam, so a rule per trigger can replace this one
 * without touching the claim loop's states.
 */

export interface RefillRule {
  /** How many to claim now with `inFlight` attempts running; 0 means wait until more slots are free. */
  limit(inFlight: number): number;
}

/**
 * Batches of up to min(free slots, batchSize), never beyond the free slots,
 * so nothing claimed waits in memory. While work is in flight, wait until at
 * least half a batch of slots is free (the low-water mark): refilling one
 * slot at a time would cost a claim statement per delivery.
 */
export function lowWaterRefill(concurrency: number, batchSize: number): RefillRule {
  const lowWater = Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 2));
  return {
    limit(inFlight) {
      const free = concurrency - inFlight;
      if (free <= 0 || (inFlight > 0 && free < lowWater)) return 0;
      return Math.min(free, batchSize);
    },
  };
}
