/**
 * The event log's gap-free position: (xid, seq) of the last event seen.
 * Readers pass only rows whose transaction is below the snapshot's xmin, in
 * (xid, seq) order, so everything at or before a cursor is final. Clients see
 * it as an opaque string; both parts are 64-bit, so they stay bigints here.
 */
import { badInput } from '../graphql/errors.js';

export interface Cursor {
  xid: bigint;
  seq: bigint;
}

/** Before every event. */
export const ORIGIN: Cursor = Object.freeze({ xid: 0n, seq: 0n });

export function compareCursors(a: Cursor, b: Cursor): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export const isAfter = (a: Cursor, b: Cursor) => compareCursors(a, b) > 0;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.xid}:${c.seq}`).toString('base64url');
}

const DECODED = /^(\d{1,20}):(\d{1,19})$/;

/** Parse a client's cursor; a malformed one is the client's error, not ours. */
export function decodeCursor(text: string): Cursor {
  const match = Buffer.from(text, 'base64url').toString('utf8').match(DECODED);
  if (!match) throw badInput('after: not a cursor returned by this API', 'after');
  return { xid: BigInt(match[1]!), seq: BigInt(match[2]!) };
}
