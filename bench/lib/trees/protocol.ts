/** Messages between the delivery scenario and its causal-tree watchers (./watchersChild.ts). */
export type WatchersIn = { type: 'watch'; url: string; token: string; roots: string[] } | { type: 'close' };
export type WatchersOut =
  | { type: 'watching'; errors: number }
  | { type: 'settled'; lastCompletedNs: bigint; updates: number; errors: number }
  | { type: 'closed' };
