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
-- A trigger's condition (src/engine/events/triggers/condition.ts) is compiled
-- into SQL once, at sync, as one branch of trigger_condition; routing calls it
-- only for a trigger whose row says has_condition, so the others cost nothing
-- more. Until a sync writes conditions it lets everything through.
--> statement-breakpoint
CREATE OR REPLACE FUNCTION threefactor.trigger_condition(trigger_name text, e threefactor.events) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN true;
END
$$;
--> statement-breakpoint
-- Replaces trigger_condition's body with the one sync compiled, unless it is
-- that already (no catalog write, no plan invalidation in every session);
-- true if it changed. Only the body comes from the caller, as a parameter
-- quoted by format: the signature and the pinned search_path are fixed here.
-- The new body is run once, so a branch PostgreSQL cannot parse fails the
-- sync, in its transaction, instead of the writes it would route.
CREATE OR REPLACE FUNCTION threefactor.replace_trigger_condition(body text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF body IS NOT DISTINCT FROM (
    SELECT p.prosrc FROM pg_proc AS p WHERE p.oid = 'threefactor.trigger_condition(text, threefactor.events)'::regprocedure
  ) THEN
    RETURN false;
  END IF;
  EXECUTE format(
    'CREATE OR REPLACE FUNCTION threefactor.trigger_condition(trigger_name text, e threefactor.events) RETURNS boolean '
    'LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS %L', body);
  PERFORM threefactor.trigger_condition(NULL, NULL);
  RETURN true;
END
$$;
--> statement-breakpoint
-- trigger_matches (first migration) plus the condition, so live routing and
-- replay keep one definition of matching. The outer CASE fixes the order: the
-- condition is evaluated only for a trigger that matched, and only if it has one.
CREATE OR REPLACE FUNCTION threefactor.trigger_matches(t threefactor.event_triggers, e threefactor.events) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN CASE t.match_kind
    WHEN 'event' THEN
      e.type = ANY (t.event_types)
      OR EXISTS (SELECT 1 FROM pg_catalog.unnest(t.event_prefixes) AS p(prefix) WHERE pg_catalog.starts_with(e.type, p.prefix))
    WHEN 'table' THEN
      e.aggregate_type = 'table:' || t.capture_table
      AND (e.payload ->> 'op') = ANY (t.capture_ops)
      AND (
        (e.payload ->> 'op') <> 'UPDATE'
        OR t.update_columns IS NULL
        OR EXISTS (
          SELECT 1 FROM pg_catalog.unnest(t.update_columns) AS c(col)
          WHERE (e.payload #> ARRAY['data', 'old', c.col]) IS DISTINCT FROM (e.payload #> ARRAY['data', 'new', c.col])
        )
      )
    ELSE false
  END
  THEN NOT t.has_condition OR threefactor.trigger_condition(t.name, e)
  ELSE false END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION threefactor.trigger_condition(text, threefactor.events) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION threefactor.replace_trigger_condition(text) FROM PUBLIC;
-- section: idempotent completion
-- An attempt row names its claim generation, so a completion re-sent after its commit's
-- reply was lost finds the row the first send wrote instead of logging the attempt twice
-- (src/engine/events/sql/completeDeliveries.ts), and says whether its outcome was applied.
-- Rows from before have no claim: nulls are distinct, so the duplicates that bug left never
-- conflict with the unique index and an upgrade keeps them as they are.
--> statement-breakpoint
ALTER TABLE "threefactor"."delivery_attempts" ADD COLUMN "claim" integer;
--> statement-breakpoint
ALTER TABLE "threefactor"."delivery_attempts" ADD COLUMN "applied" boolean;
--> statement-breakpoint
DROP INDEX "threefactor"."delivery_attempts_delivery_idx";
--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_attempts_delivery_idx" ON "threefactor"."delivery_attempts" ("delivery_id","attempt","claim");
