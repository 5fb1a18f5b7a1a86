/**
 * The fanout benchmark's delivery accounting: which expected deliveries of a
 * measured window arrived (and how late), which live-state coalescing was
 * allowed to drop, and which are missing. One rule for every part, so the
 * record's "missing" means the same everywhere:
 *
 * - a change is a stamp `<orderId>:<version>` (or a baseline message key)
 *   committed (sent) inside the window, expected at `fanout` clients;
 * - delivered: the client received that key;
 * - coalesced (live state only): the client never received it but received
 *   a newer version of the same order while recording, so a newer state
 *   replaced the unsent older one, which `order(id)` and the feeds allow;
 * - missing: neither, the version was never superseded and never seen.
 *
 * A baseline message is never superseded (`coalescing: false`): for plain
 * `ws` every expected message that did not arrive is missing.
 */
import type { Arrivals, Stamps } from './protocol.js';

export interface Joined {
  /** commit (send) → arrival, ms, one per delivered (client, change); an arrival stamped before its commit counts 0. */
  samplesMs: number[];
  /** Changes stamped inside the window. */
  changes: number;
  /** changes × fanout. */
  expected: number;
  delivered: number;
  coalesced: number;
  missing: number;
  /** Arrivals stamped before the writer saw its COMMIT acknowledged (counted as 0 ms). */
  early: number;
}

/** `<orderId>:<version>` → [orderId, version]; a key without a numeric version is its own order. */
function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  const version = at < 0 ? Number.NaN : Number(key.slice(at + 1));
  return Number.isInteger(version) ? [key.slice(0, at), version] : [key, Number.NaN];
}

export function joinDeliveries(stamps: Stamps, arrivals: Arrivals, window: { from: number; to: number }, opts: { fanout: number; coalescing: boolean }): Joined {
  const byKey = new Map<string, { times: Float64Array; clients: Uint32Array }>();
  // For coalescing: every version that reached anyone, per order, with who received it.
  const versionsOf = new Map<string, Array<{ version: number; clients: Uint32Array }>>();
  for (const [key, times, clients] of arrivals) {
    byKey.set(key, { times, clients });
    if (!opts.coalescing) continue;
    const [order, version] = splitKey(key);
    if (Number.isNaN(version)) continue;
    let list = versionsOf.get(order);
    if (!list) versionsOf.set(order, (list = []));
    list.push({ version, clients });
  }

  const out: Joined = { samplesMs: [], changes: 0, expected: 0, delivered: 0, coalesced: 0, missing: 0, early: 0 };
  for (const [key, at] of stamps) {
    if (at < window.from || at > window.to) continue;
    out.changes++;
    out.expected += opts.fanout;
    const got = byKey.get(key);
    const seen = new Set<number>();
    if (got) {
      for (let i = 0; i < got.times.length; i++) {
        const client = got.clients[i]!;
        // A client's first arrival of a change is its delivery; a repeat is not a second one.
        if (seen.has(client)) continue;
        seen.add(client);
        const t = got.times[i]!;
        if (t < at) out.early++;
        out.samplesMs.push(Math.max(0, t - at));
      }
    }
    let superseded = 0;
    if (opts.coalescing) {
      const [order, version] = splitKey(key);
      const newer = new Set<number>();
      for (const later of versionsOf.get(order) ?? []) {
        if (!(later.version > version)) continue;
        for (const client of later.clients) if (!seen.has(client)) newer.add(client);
      }
      superseded = newer.size;
    }
    const delivered = Math.min(seen.size, opts.fanout);
    const coalesced = Math.min(superseded, opts.fanout - delivered);
    out.delivered += delivered;
    out.coalesced += coalesced;
    out.missing += opts.fanout - delivered - coalesced;
  }
  return out;
}
