/**
 * What the `loop` scenario's parent and its clients process tell each other.
 * One run is one side at one rate: orders placed open loop for `ms`, each
 * carried through the chain by the clients (the customer pays once it is
 * validated, the restaurant approves once it is paid), each hop timed from
 * the HTTP response of the mutation that starts it to the restaurant feed
 * showing its result.
 */

/**
 * `chain`: the dispatcher and the handler functions carry each hop (nothing
 * for the clients to do but watch). `direct`: the clients call the handler
 * functions themselves, in their own process, as soon as the mutation that
 * starts a hop has answered (the baseline).
 */
export type LoopMode = 'chain' | 'direct';

export const HOPS = ['placeOrder → validated', 'payOrder → paid', 'approveOrder → driver assigned'] as const;
export type Hop = (typeof HOPS)[number];

export type LoopClientsIn = {
  type: 'run';
  mode: LoopMode;
  apiUrl: string;
  databaseUrl: string;
  jwtSecret: string;
  /** direct mode: the handler functions' service token, as the handlers process is given one. */
  serviceToken: string;
  perSecond: number;
  /** Orders are placed for warmupMs + durationMs; those placed in the last durationMs are measured. */
  warmupMs: number;
  durationMs: number;
  /** How long to wait, after the last placement, for every chain to finish. */
  settleMs: number;
};

export interface OrderTiming {
  orderId: string;
  /** ms per hop, in HOPS order; an arrival before its response counts 0 (and `early`). */
  hopsMs: [number, number, number];
}

export type LoopClientsOut =
  | { type: 'subscribed' }
  | {
      type: 'done';
      /** Chains of the orders placed inside the measured window that finished. */
      measured: OrderTiming[];
      placed: number;
      /** Orders (any placed) whose chain had not finished settleMs after the last placement. */
      unfinished: number;
      early: number;
      failures: number;
      firstFailure?: string;
      /** How far the open-loop placement fell behind its schedule, ms (the clients' own lag). */
      lateMs: number;
      clientCores: number;
    };
