/**
 * Event-delivery test kit: a fixed webhook secret, a quiet logger, and
 * helpers to write events the way the API does (withEventTransaction) or in
 * bulk with one statement.
 */
import { sql as dsql } from 'drizzle-orm';
import { createLogger } from '../../src/engine/log.js';
import { withEventTransaction, type NewEvent } from '../../src/engine/events/transaction.js';
import type { TestDatabase } from './db.js';

/** whsec_ + base64 of 32 fixed bytes: tests only. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

export const testLog = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export interface EmitOptions {
  session?: Record<string, string> | null;
  traceContext?: Record<string, string> | null;
  causedBy?: string | null;
}

/** Writes events in one transaction, as a mutation would; returns their ids. */
export async function emitEvents(db: TestDatabase, events: NewEvent[], opts: EmitOptions = {}): Promise<string[]> {
  const ctx = { session: opts.session ?? null, traceContext: opts.traceContext ?? null, eventIds: [], causedBy: opts.causedBy ?? null };
  return withEventTransaction(db.db, ctx, async ({ emit }) => {
    const ids: string[] = [];
    for (const e of events) ids.push(await emit(e));
    return ids;
  });
}

/** `count` events of `type` in one INSERT (aggregate ids a0…a{keys-1}, payload {n}). */
export async function emitMany(db: TestDatabase, type: string, count: number, keys = count): Promise<void> {
  await db.db.execute(dsql`
    insert into threefactor.events (type, aggregate_type, aggregate_id, payload)
    select ${type}, 'test', 'a' || (n % ${keys}), jsonb_build_object('n', n)
    from generate_series(1, ${count}) as n`);
}
