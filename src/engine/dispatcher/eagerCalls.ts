/**
 * Eager step calls: the workflow runner's step calls run on this dispatcher
 * straight from the batch that made them, with no NOTIFY and no claim in
 * between (Temporal's eager activity dispatch does the same): the batch
 * writes their deliveries already leased to this dispatcher, and once it
 * commits they go to the attempts. That is a claim's round trip and a
 * wake-up fewer on every step-to-step hop.
 *
 * Only what a claim here could take at that moment goes eager: a trigger
 * this process serves, with no cap, rate limit or ordering (those hold
 * across dispatchers, so only the claim may decide them), within the free
 * slots the refill rule gives it, counting those a claim in flight may fill;
 * the slots are reserved in the attempts before the batch is sent, so no
 * later claim fills them meanwhile. A paused
 * trigger's call is written pending, as any other. The rest is written
 * pending and claimed as usual, here or elsewhere.
 *
 * A batch that fails gives its slots back. One that committed but whose
 * reply was lost leaves its eager deliveries leased and never run: the
 * rescuer hands them back to pending when the lease expires (at least once,
 * late by a lease).
 */
import type { ClaimedDelivery } from '../events/sql/claimDeliveries.js';
import type { TriggerRegistry } from '../events/triggers/registry.js';
import type { Attempts } from './attempts.js';
import { isLimited } from './claimLoop.js';
import type { RefillRule } from './refill.js';

/** Slots reserved per trigger for one batch's step calls. */
export type Reservation = Map<string, number>;

export interface EagerCalls {
  /** The lease the eager deliveries are written with. */
  readonly dispatcherId: string;
  readonly leaseMs: number;
  /** Reserves slots for up to `wanted` calls of each trigger: how many of each may be written leased here. */
  reserve(wanted: ReadonlyMap<string, number>): Reservation;
  /** The batch committed: runs the deliveries it wrote leased here, and gives back the slots it did not use. */
  run(deliveries: readonly ClaimedDelivery[], reserved: Reservation): void;
  /** The batch failed: gives every slot back. */
  cancel(reserved: Reservation): void;
}

export interface EagerCallsOptions {
  dispatcherId: string;
  leaseMs: number;
  registry: Pick<TriggerRegistry, 'servableNames' | 'get'>;
  attempts: Pick<Attempts, 'inFlightByTrigger' | 'reserve' | 'unreserve' | 'runReserved'>;
  /** The claim in flight's share of the slots (ClaimLoop.claimingByTrigger): taken, since its claim may fill them. */
  claiming(): ReadonlyMap<string, number>;
  refill: RefillRule;
}

export function eagerCalls(o: EagerCallsOptions): EagerCalls {
  const cancel = (reserved: Reservation): void => {
    for (const [trigger, n] of reserved) o.attempts.unreserve(trigger, n);
  };
  return {
    dispatcherId: o.dispatcherId,
    leaseMs: o.leaseMs,
    reserve(wanted) {
      const reserved: Reservation = new Map();
      const servable = o.registry.servableNames();
      for (const [trigger, n] of wanted) {
        const def = o.registry.get(trigger)?.definition;
        if (!def || isLimited(def) || def.orderingKey !== undefined) continue;
        // Read again per trigger: each reservation counts in the next one's shares.
        const taken = o.attempts.inFlightByTrigger();
        for (const [t, k] of o.claiming()) taken.set(t, (taken.get(t) ?? 0) + k);
        const take = Math.min(n, o.refill.room(servable, taken, trigger));
        if (take > 0 && o.attempts.reserve(trigger, take)) reserved.set(trigger, take);
      }
      return reserved;
    },
    run(deliveries, reserved) {
      const left = new Map(reserved);
      // startCalls writes no more of a trigger leased here than its reservation holds.
      for (const d of deliveries) {
        left.set(d.triggerName, (left.get(d.triggerName) ?? 0) - 1);
        o.attempts.runReserved(d);
      }
      cancel(left);
    },
    cancel,
  };
}
