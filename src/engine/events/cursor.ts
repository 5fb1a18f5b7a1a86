/**
 * The event log's gap-free position: (xid, seq) of an event. Readers pass
 * only rows whose transaction is below the snapshot's xmin, in (xid, seq)
 * order, so everything at or before a cursor is final. Both parts are 64-bit,
 * so they stay bigints here. One text form, "<xid>:<seq>", is used everywhere
 * a client sees a position: the events subscription's resume cursor, the
 * admin event connection, and replay's afterCursor/beforeCursor.
 */
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

/** The text form of a position; accepts the bigint form or the row's text/number columns. */
export const formatCursor = (c: { xid: bigint | string; seq: bigint | number | string }): string => `${c.xid}:${c.seq}`;

const TEXT = /^(\d{1,20}):(\d{1,19})$/;

/** xid8 is unsigned 64-bit, seq a signed bigint. PostgreSQL clamps a larger xid8 to its maximum, so check here. */
const MAX_XID = 2n ** 64n - 1n;
const MAX_SEQ = 2n ** 63n - 1n;

/** Parse a client's cursor text; undefined when it is not one (the caller words the error). */
export function parseCursor(text: string): Cursor | undefined {
  const match = TEXT.exec(text);
  if (!match) return undefined;
  const cursor = { xid: BigInt(match[1]!), seq: BigInt(match[2]!) };
  return cursor.xid <= MAX_XID && cursor.seq <= MAX_SEQ ? cursor : undefined;
}
