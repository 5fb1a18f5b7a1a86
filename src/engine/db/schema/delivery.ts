/**
 * Event delivery: the triggers (what to deliver where), one delivery row per
 * (event, trigger) and one attempt row per HTTP call or in-process run.
 *
 * Deliveries are created by a statement-level trigger on `events` in the
 * event's own transaction (drizzle/engine/…_threefactor_schema), so a committed event
 * can never miss its deliveries. The dispatcher (src/events/dispatcher.ts)
 * claims them with short leases; see src/events/sql/ for every statement.
 *
 * The routing columns of `event_triggers` (event_types … ordering) are derived
 * from `definition` at sync (src/events/triggers/routing.ts): the definition
 * stays the single source of truth, the columns let SQL match without
 * parsing JSON per event.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, integer, jsonb, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { TriggerDefinition } from '../../events/triggers/triggerDefinition.js';
import { events, xid8 } from './events.js';
import { threefactor } from './threefactor.js';

export const DELIVERY_STATUSES = ['pending', 'running', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const deliveryStatus = threefactor.enum('delivery_status', DELIVERY_STATUSES);

/** How a delivery came to be: routed from a new event, a manual invocation, or a replay. */
export const DELIVERY_SOURCES = ['event', 'manual', 'replay'] as const;
export type DeliverySource = (typeof DELIVERY_SOURCES)[number];

const now = (name: string) => timestamp(name, { withTimezone: true }).notNull().defaultNow();

export const eventTriggers = threefactor.table('event_triggers', {
  name: text('name').primaryKey(),
  definition: jsonb('definition').$type<TriggerDefinition>().notNull(),
  /** Disabled: no deliveries are created. Declared in the definition. */
  enabled: boolean('enabled').notNull().default(true),
  /** Paused: deliveries are created and queue, but are not claimed. Runtime state, never touched by sync. */
  paused: boolean('paused').notNull().default(false),
  /** Why it is paused ('manual', or 'gone: HTTP 410 from …'), and since when. Runtime state, like paused. */
  pausedReason: text('paused_reason'),
  pausedAt: timestamp('paused_at', { withTimezone: true }),
  /** 'event' (domain events by type) or 'table' (row changes captured from a table). */
  matchKind: text('match_kind').notNull(),
  /** Exact event types (kind 'event'). */
  eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
  /** Type prefixes, from patterns like `order.*` stored as `order.` (kind 'event'). */
  eventPrefixes: text('event_prefixes').array().notNull().default(sql`'{}'::text[]`),
  /** `schema.table` captured (kind 'table'). */
  captureTable: text('capture_table'),
  /** Operations listened to: INSERT, UPDATE, DELETE (kind 'table'). */
  captureOps: text('capture_ops').array().notNull().default(sql`'{}'::text[]`),
  /** An UPDATE is delivered only if one of these changed; null means any column. */
  updateColumns: text('update_columns').array(),
  /** null (parallel), 'aggregate', or 'payload:<field>'. */
  ordering: text('ordering'),
  maxAttempts: integer('max_attempts').notNull(),
  /** At most this many deliveries running at once, across all dispatchers; null: no cap. From the definition. */
  concurrency: integer('concurrency'),
  /** At most this many claims per second, across all dispatchers; null: no limit. From the definition. */
  ratePerSecond: doublePrecision('rate_per_second'),
  /** The rate limit's token bucket: tokens left at rate_refilled_at. Runtime state, written by the claim. */
  rateTokens: doublePrecision('rate_tokens'),
  rateRefilledAt: timestamp('rate_refilled_at', { withTimezone: true }),
  /** The definition has a condition: routing evaluates threefactor.trigger_condition(name, event). */
  hasCondition: boolean('has_condition').notNull().default(false),
  createdAt: now('created_at'),
  updatedAt: now('updated_at'),
});

export const deliveries = threefactor.table(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    triggerName: text('trigger_name')
      .notNull()
      .references(() => eventTriggers.name, { onDelete: 'cascade', onUpdate: 'cascade' }),
    source: text('source').$type<DeliverySource>().notNull().default('event'),
    status: deliveryStatus('status').notNull().default('pending'),
    /** Attempts that ran to an outcome. A crashed or drained attempt does not count. */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /** Times claimed; also the lease generation, so a stale dispatcher cannot complete a re-claimed delivery. */
    claims: integer('claims').notNull().default(0),
    /** Not claimed before this time (retry backoff). */
    runAt: now('run_at'),
    lockedBy: text('locked_by'),
    /** Lease expiry: a running delivery past it is handed back to pending (its dispatcher died). */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /** Deliveries with the same (trigger, key) run one at a time in (event_xid, event_seq) order. */
    orderingKey: text('ordering_key'),
    eventXid: xid8('event_xid').notNull(),
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: now('created_at'),
    updatedAt: now('updated_at'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    // What a claim scans, one trigger at a time: only rows that can be claimed.
    index('deliveries_claimable_by_trigger_idx').on(t.triggerName, t.runAt).where(sql`${t.status} = 'pending'`),
    // What the lease sweep scans.
    index('deliveries_leases_idx').on(t.lockedUntil).where(sql`${t.status} = 'running'`),
    // "Is an earlier delivery of this key unfinished?"
    index('deliveries_ordering_idx')
      .on(t.triggerName, t.orderingKey, t.eventXid, t.eventSeq)
      .where(sql`${t.status} in ('pending', 'running') and ${t.orderingKey} is not null`),
    // The dead-letter view.
    index('deliveries_dead_idx').on(t.triggerName, t.updatedAt).where(sql`${t.status} = 'dead'`),
    index('deliveries_event_idx').on(t.eventId),
    index('deliveries_trigger_idx').on(t.triggerName, t.createdAt),
  ],
);

export const deliveryAttempts = threefactor.table(
  'delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    /** 1-based attempt number of the delivery. */
    attempt: integer('attempt').notNull(),
    /**
     * The delivery's claim generation (deliveries.claims) the attempt ran under: with the
     * delivery and the attempt number it names one attempt, so a completion re-sent after a
     * lost reply finds its row instead of logging the attempt twice. Null on rows logged
     * before it was recorded.
     */
    claim: integer('claim'),
    /**
     * Whether the attempt's outcome was written to its delivery; false: the lease had been
     * lost (another claim took over), so only this row was kept. Null on rows logged before
     * it was recorded.
     */
    applied: boolean('applied'),
    dispatcherId: text('dispatcher_id').notNull(),
    /** delivered, retry, dead or paused (a 410 paused its trigger): what this attempt decided. */
    outcome: text('outcome').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    httpStatus: integer('http_status'),
    /** The first few KB of the response body. */
    responseBody: text('response_body'),
    error: text('error'),
  },
  // Unique (nulls distinct: older rows without a claim never conflict, so an upgrade keeps them as they are).
  (t) => [uniqueIndex('delivery_attempts_delivery_idx').on(t.deliveryId, t.attempt, t.claim)],
);

export type EventTriggerRow = typeof eventTriggers.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;
