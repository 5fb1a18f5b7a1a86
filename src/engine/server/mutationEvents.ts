/**
 * "A mutation says what it wrote": every mutation's result carries
 * `extensions.threefactor = { events, cursor }`, over HTTP, SSE and graphql-ws
 * alike (all run envelop's execute). `events` are the ids of the events the
 * operation committed, in the order it wrote them (a rolled-back write
 * reports none: withEventTransaction adds ids only after the commit);
 * `cursor` is the events stream's position of the last of them ("xid:seq",
 * ../events/cursor.ts), omitted when there are none.
 *
 * Why that cursor: `events(after: cursor)` yields what comes after it in
 * (xid, seq) order, so not the mutation's own events but everything
 * committed after them, which includes everything they caused. A handler's
 * write-back runs in a transaction that starts after the mutation committed,
 * so its xid is greater than the mutation's and it sorts after the cursor;
 * only transactions that were already running when the mutation committed
 * can sort before it, and those cannot have been caused by it.
 *
 * Queries and subscriptions get nothing: they write nothing.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { inArray } from 'drizzle-orm';
import { events } from '../db/schema/events.js';
import { compareCursors, formatCursor, type Cursor } from '../events/cursor.js';
import type { Context } from '../graphql/context.js';
import { errorMessage } from '../lib.js';

/** What the extension holds. */
export interface MutationEvents {
  events: string[];
  cursor?: string;
}

export function reportMutationEvents(): Plugin<Context> {
  return {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      const ctx = args.contextValue;
      return {
        async onExecuteDone({ result, setResult }) {
          // A mutation's result is one value; an incremental (@defer) stream is not one this schema produces.
          if (Symbol.asyncIterator in result) return;
          const threefactor = await describe(ctx);
          setResult({ ...result, extensions: { ...result.extensions, threefactor } });
        },
      };
    },
  };
}

async function describe(ctx: Context): Promise<MutationEvents> {
  const ids = [...ctx.events.eventIds];
  if (!ids.length) return { events: [] };
  const last = await lastPosition(ctx, ids);
  return last ? { events: ids, cursor: formatCursor(last) } : { events: ids };
}

/**
 * The greatest (xid, seq) of the events. withEventTransaction records each one's as it writes it; an event
 * written some other way (an admin's manual invocation) is read back, in one query for all of them.
 */
async function lastPosition(ctx: Context, ids: string[]): Promise<Cursor | undefined> {
  const known = ctx.events.positions ?? new Map<string, Cursor>();
  const positions = ids.flatMap((id) => known.get(id) ?? []);
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) {
    try {
      const rows = await ctx.database.db.select({ xid: events.xid, seq: events.seq }).from(events).where(inArray(events.id, unknown));
      positions.push(...rows.map((r) => ({ xid: BigInt(r.xid), seq: BigInt(r.seq) })));
    } catch (err) {
      // The write is done and its ids are known: a missing cursor must not turn it into an error.
      ctx.log.warn({ error: errorMessage(err) }, 'could not read the committed events’ positions; the result has no cursor');
      return undefined;
    }
  }
  return positions.reduce<Cursor | undefined>((max, c) => (!max || compareCursors(c, max) > 0 ? c : max), undefined);
}
