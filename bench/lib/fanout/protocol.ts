/**
 * The fanout benchmark's processes and what they tell each other. Every
 * process stamps times with the same clock (epoch milliseconds with
 * sub-millisecond precision; all on one machine), so a change's commit (or
 * the baseline's send) and its arrival at a client can be joined by key,
 * `<orderId>:<version>` (or the baseline's message key).
 */

/** Epoch milliseconds, sub-millisecond precision, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

/** When each change (key) was committed / sent: [key, time]. */
export type Stamps = Array<[string, number]>;
/** When each change (key) reached clients: [key, times, clients], one time per arrival and the index of the client it reached. */
export type Arrivals = Array<[string, Float64Array, Uint32Array]>;

export type SubscriberSpec =
  | { kind: 'order'; customerId: string; orderId: string }
  | { kind: 'restaurant'; restaurantId: string }
  | { kind: 'plain' };

export type SubscribersIn =
  | { type: 'connect'; url: string; secret: string; subscribers: SubscriberSpec[]; parallel: number }
  | { type: 'record'; on: boolean }
  | { type: 'collect' }
  | { type: 'close' };
export type SubscribersOut =
  /** messageBytes: the mean size of the `next` frames received while connecting (each socket's own id in them). */
  | { type: 'connected'; connected: number; failed: number; firstFailure?: string; ms: number; messageBytes: number }
  | { type: 'recording' }
  /** wrongIds: `next` frames that carried another socket's subscription id (a shared frame not re-addressed). */
  | { type: 'collected'; arrivals: Arrivals; messages: number; errors: number; firstError?: string; clientCores: number; wrongIds: number }
  | { type: 'closed' };

export type WriterIn = {
  type: 'run';
  databaseUrl: string;
  orders: Array<{ id: string; customerId: string; restaurantId: string }>;
  perSecond: number;
  ms: number;
  connections: number;
};
export type WriterOut = { type: 'started'; at: number } | { type: 'done'; commits: Stamps; failed: number; firstFailure?: string; lateMs: number };

export type PlainServerIn =
  /** With `collectGarbage`, a full GC first, then `settleMs` for the sweeper to free pages. */
  | { type: 'rss'; collectGarbage?: { settleMs: number } }
  | { type: 'send'; mode: 'one' | 'all'; perSecond: number; ms: number; bytes: number }
  | { type: 'stop' };
export type PlainServerOut =
  | { type: 'listening'; port: number }
  | { type: 'rss'; rss: number; connections: number }
  | { type: 'started'; at: number }
  | { type: 'sent'; sends: Stamps; lateMs: number; cores: number };
