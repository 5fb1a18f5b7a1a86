CREATE TYPE "delivery_status" AS ENUM('pending', 'running', 'delivered', 'dead');--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"event_id" uuid NOT NULL,
	"trigger_name" text NOT NULL,
	"source" text DEFAULT 'event' NOT NULL,
	"status" "delivery_status" DEFAULT 'pending'::"delivery_status" NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"claims" integer DEFAULT 0 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_until" timestamp with time zone,
	"ordering_key" text,
	"event_xid" xid8 NOT NULL,
	"event_seq" bigint NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "delivery_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "delivery_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"dispatcher_id" text NOT NULL,
	"outcome" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"http_status" integer,
	"response_body" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "event_triggers" (
	"name" text PRIMARY KEY,
	"definition" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"match_kind" text NOT NULL,
	"event_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"event_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"capture_table" text,
	"capture_ops" text[] DEFAULT '{}'::text[] NOT NULL,
	"update_columns" text[],
	"ordering" text,
	"max_attempts" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "deliveries_claimable_idx" ON "deliveries" ("run_at") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "deliveries_leases_idx" ON "deliveries" ("locked_until") WHERE "status" = 'running';--> statement-breakpoint
CREATE INDEX "deliveries_ordering_idx" ON "deliveries" ("trigger_name","ordering_key","event_xid","event_seq") WHERE "status" in ('pending', 'running') and "ordering_key" is not null;--> statement-breakpoint
CREATE INDEX "deliveries_dead_idx" ON "deliveries" ("trigger_name","updated_at") WHERE "status" = 'dead';--> statement-breakpoint
CREATE INDEX "deliveries_event_idx" ON "deliveries" ("event_id");--> statement-breakpoint
CREATE INDEX "deliveries_trigger_idx" ON "deliveries" ("trigger_name","created_at");--> statement-breakpoint
CREATE INDEX "delivery_attempts_delivery_idx" ON "delivery_attempts" ("delivery_id","attempt");--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_event_id_events_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_trigger_name_event_triggers_name_fkey" FOREIGN KEY ("trigger_name") REFERENCES "event_triggers"("name") ON DELETE CASCADE ON UPDATE CASCADE;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_delivery_id_deliveries_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE;