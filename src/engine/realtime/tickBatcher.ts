/**
 * Shared reads per hub tick: every load requested while the hub dispatches a
 * batch (and until the event loop turns) goes into ONE query, and everyone
 * asking for the same key shares its result. A batch already sent takes no
 * new keys, so a load always reads state at least as new as the event that
 * asked for it. Nothing is cached past the batch: the next change reads again.
 */
export type BatchFetch<V> = (keys: string[]) => Promise<Map<string, V>>;

export interface TickBatcher<V> {
  load(key: string): Promise<V | undefined>;
}

interface Batch<V> {
  keys: Map<string, Promise<V | undefined>>;
  rows: Promise<Map<string, V>>;
  send(): void;
}

export function createTickBatcher<V>(fetch: BatchFetch<V>): TickBatcher<V> {
  let open: Batch<V> | undefined;

  function newBatch(): Batch<V> {
    let send!: () => void;
    const keys = new Map<string, Promise<V | undefined>>();
    const rows = new Promise<Map<string, V>>((resolve, reject) => {
      send = () => {
        if (open === batch) open = undefined;
        fetch([...keys.keys()]).then(resolve, reject);
      };
    });
    const batch: Batch<V> = { keys, rows, send };
    setImmediate(send);
    return batch;
  }

  return {
    load(key) {
      open ??= newBatch();
      let one = open.keys.get(key);
      if (!one) {
        one = open.rows.then((rows) => rows.get(key));
        open.keys.set(key, one);
      }
      return one;
    },
  };
}
