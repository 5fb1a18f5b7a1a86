-- Causality: each event records the event and delivery whose handler's
-- write-back wrote it (null: no delivery behind the write). Both default from
-- transaction-local settings that withEventTransaction sets, as session and
-- trace_context do. A stable default adds the columns without rewriting the
-- table; the partial index holds only caused events, so on an existing log it
-- is built by one scan that writes nothing.
ALTER TABLE "threefactor"."events" ADD COLUMN "caused_by_event" uuid DEFAULT CAST(nullif(current_setting('threefactor.cause_event', true), '') AS uuid);--> statement-breakpoint
ALTER TABLE "threefactor"."events" ADD COLUMN "caused_by_delivery" uuid DEFAULT CAST(nullif(current_setting('threefactor.cause_delivery', true), '') AS uuid);--> statement-breakpoint
CREATE INDEX "events_caused_by_delivery_idx" ON "threefactor"."events" ("caused_by_delivery") WHERE caused_by_delivery IS NOT NULL;