-- Delivery policy (issue: delivery semantics): the pause's reason, the cross-dispatcher
-- concurrency cap and rate limit (with the rate limit's token bucket), and conditions.
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "paused_reason" text;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "concurrency" integer;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "rate_per_second" double precision;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "rate_tokens" double precision;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "rate_refilled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "threefactor"."event_triggers" ADD COLUMN "has_condition" boolean DEFAULT false NOT NULL;
-- section: conditions (routing evaluates compiled trigger conditions)
-- section: idempotent completion
