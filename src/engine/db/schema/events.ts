/**
 * The event log: one append-only table that is the system's history.
 *
 * `xid` is the inserting transaction's id (pg_current_xact_id()). Unlike
 * `seq`, it gives a gap-free resumable cursor: readers only pass rows whose
 * xid is below the snapshot's xmin, ordered by (xid, seq), so a row from a
 * transaction still in flight can never be skipped.
 *
 * `session` and `trace_context` default from transaction-local settings
 * (see src/events/transaction.ts), so events written by table triggers or
 * by raw SQL carry the same actor and trace as those written by resolvers.
 * UPDATE is refused by a trigger (drizzle/engine/…_threefactor_schema).
 */
import { sql } from 'drizzle-orm';
import { bigint, customType, index, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { threefactor } from './threefactor.js';

/** xid8 travels as text: it is a 64-bit number beyond JS's safe integers. */
export const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => 'xid8',
});

export type JsonObject = { [key: string]: unknown };

export const events = threefactor.table(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
    type: text('type').notNull(),
    aggregateType: text('aggregate_type').notNull(),
    aggregateId: text('aggregate_id').notNull(),
    payload: jsonb('payload').$type<JsonObject>().notNull(),
    session: jsonb('session')
      .$type<JsonObject | null>()
      .default(sql`CAST(nullif(current_setting('threefactor.session', true), '') AS jsonb)`),
    traceContext: jsonb('trace_context')
      .$type<JsonObject | null>()
      .default(sql`CAST(nullif(current_setting('threefactor.trace', true), '') AS jsonb)`),
    /**
     * What caused this event: the event and the delivery whose handler's
     * write-back wrote it (the kit passes both back, src/kit/contract.ts;
     * withEventTransaction sets them). Null for a write with no delivery
     * behind it: a client's own mutation, a captured table write, raw SQL.
     */
    causedByEvent: uuid('caused_by_event').default(sql`CAST(nullif(current_setting('threefactor.cause_event', true), '') AS uuid)`),
    causedByDelivery: uuid('caused_by_delivery').default(sql`CAST(nullif(current_setting('threefactor.cause_delivery', true), '') AS uuid)`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_cursor_idx').on(t.xid, t.seq),
    index('events_aggregate_idx').on(t.aggregateType, t.aggregateId, t.seq),
    index('events_type_idx').on(t.type, t.createdAt),
    index('events_caused_by_delivery_idx').on(t.causedByDelivery).where(sql`caused_by_delivery IS NOT NULL`),
  ],
);

export type EventRow = typeof events.$inferSelect;
