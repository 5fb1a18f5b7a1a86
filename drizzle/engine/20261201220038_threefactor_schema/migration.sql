-- The engine's whole catalog in its own schema, `threefactor`: the event log,
-- triggers, deliveries and attempt logs, and every function of capture,
-- routing and wake-ups. The only engine objects outside it are the capture
-- triggers `threefactor_capture` that sync installs on captured tables.
--
-- Fresh database: everything is created here.
-- An installation of the earlier layout (engine tables in `public`, functions
-- named public.threefactor_*) is adopted in place: its tables move into the
-- schema with their rows, indexes, constraints and identity sequences, its
-- triggers are re-pointed at the new functions, and the old functions are
-- dropped, all in this migration's one transaction.
--
-- Functions never resolve names from the caller's search_path: trigger
-- functions run with a pinned search_path and qualified names, and capture
-- and routing are SECURITY DEFINER, so a role that may write an application
-- table, with no rights in `threefactor`, is still captured (and if the event
-- cannot be written, its write fails).
CREATE SCHEMA IF NOT EXISTS "threefactor";
--> statement-breakpoint
REVOKE ALL ON SCHEMA "threefactor" FROM PUBLIC;
--> statement-breakpoint
DO $$
BEGIN
  IF to_regprocedure('public.threefactor_route_events()') IS NOT NULL AND to_regclass('public.events') IS NOT NULL THEN
    RAISE NOTICE 'threefactor: moving the engine tables of the earlier layout from public into threefactor';
    ALTER TABLE public.events SET SCHEMA threefactor;
    ALTER TABLE public.event_triggers SET SCHEMA threefactor;
    ALTER TABLE public.deliveries SET SCHEMA threefactor;
    ALTER TABLE public.delivery_attempts SET SCHEMA threefactor;
    ALTER TYPE public.delivery_status SET SCHEMA threefactor;
  END IF;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  IF to_regtype('threefactor.delivery_status') IS NULL THEN
    CREATE TYPE "threefactor"."delivery_status" AS ENUM('pending', 'running', 'delivered', 'dead');
  END IF;
END
$$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "threefactor"."events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "threefactor"."events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"xid" xid8 DEFAULT pg_current_xact_id() NOT NULL,
	"type" text NOT NULL,
	"aggregate_type" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"session" jsonb DEFAULT CAST(nullif(current_setting('threefactor.session', true), '') AS jsonb),
	"trace_context" jsonb DEFAULT CAST(nullif(current_setting('threefactor.trace', true), '') AS jsonb),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "threefactor"."event_triggers" (
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
CREATE TABLE IF NOT EXISTS "threefactor"."deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"event_id" uuid NOT NULL,
	"trigger_name" text NOT NULL,
	"source" text DEFAULT 'event' NOT NULL,
	"status" "threefactor"."delivery_status" DEFAULT 'pending'::"threefactor"."delivery_status" NOT NULL,
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
	"completed_at" timestamp with time zone,
	CONSTRAINT "deliveries_event_id_events_id_fkey" FOREIGN KEY ("event_id") REFERENCES "threefactor"."events"("id") ON DELETE CASCADE,
	CONSTRAINT "deliveries_trigger_name_event_triggers_name_fkey" FOREIGN KEY ("trigger_name") REFERENCES "threefactor"."event_triggers"("name") ON DELETE CASCADE ON UPDATE CASCADE
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "threefactor"."delivery_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "threefactor"."delivery_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"dispatcher_id" text NOT NULL,
	"outcome" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"http_status" integer,
	"response_body" text,
	"error" text,
	CONSTRAINT "delivery_attempts_delivery_id_deliveries_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "threefactor"."deliveries"("id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "events_cursor_idx" ON "threefactor"."events" ("xid","seq");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "events_aggregate_idx" ON "threefactor"."events" ("aggregate_type","aggregate_id","seq");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "events_type_idx" ON "threefactor"."events" ("type","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_claimable_idx" ON "threefactor"."deliveries" ("run_at") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_leases_idx" ON "threefactor"."deliveries" ("locked_until") WHERE "status" = 'running';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_ordering_idx" ON "threefactor"."deliveries" ("trigger_name","ordering_key","event_xid","event_seq") WHERE "status" in ('pending', 'running') and "ordering_key" is not null;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_dead_idx" ON "threefactor"."deliveries" ("trigger_name","updated_at") WHERE "status" = 'dead';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_event_idx" ON "threefactor"."deliveries" ("event_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_trigger_idx" ON "threefactor"."deliveries" ("trigger_name","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "delivery_attempts_delivery_idx" ON "threefactor"."delivery_attempts" ("delivery_id","attempt");--> statement-breakpoint
-- The event log is history: rows are never updated in place.
-- DELETE stays possible for an operator's configured retention.
CREATE OR REPLACE FUNCTION threefactor.events_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- The wake-up (the channel is EVENTS_CHANNEL, src/events/channels.ts): one
-- per statement, with a constant payload. PostgreSQL folds identical
-- notifications within a transaction into one, so a transaction sends at most
-- one NOTIFY however many events it writes. Listeners read the truth from the
-- table; the notification only says "look".
CREATE OR REPLACE FUNCTION threefactor.events_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('threefactor_events', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Does trigger t route event e? The one definition of matching, used by the
-- routing trigger below and by replay (src/events/sql/replayDeliveries.ts).
-- An UPDATE reaches a table trigger only if one of its listened columns
-- changed (all columns when update_columns is null). No table is named and no
-- SET clause is given, so the planner may inline it into the routing join.
CREATE OR REPLACE FUNCTION threefactor.trigger_matches(t threefactor.event_triggers, e threefactor.events) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE t.match_kind
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
$$;
--> statement-breakpoint
-- The key deliveries of trigger t are serialized by, for event e (null: no
-- ordering). For captured rows a payload field is read from the row.
CREATE OR REPLACE FUNCTION threefactor.ordering_key(t threefactor.event_triggers, e threefactor.events) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN t.ordering = 'aggregate' THEN e.aggregate_type || ':' || e.aggregate_id
    WHEN pg_catalog.starts_with(t.ordering, 'payload:') THEN
      CASE WHEN pg_catalog.starts_with(e.aggregate_type, 'table:') THEN
        coalesce(nullif(e.payload #> '{data,new}', 'null'::jsonb), e.payload #> '{data,old}') ->> pg_catalog.substr(t.ordering, 9)
      ELSE
        e.payload ->> pg_catalog.substr(t.ordering, 9)
      END
  END
$$;
--> statement-breakpoint
-- Routing: deliveries come into existence in the event's own transaction, so
-- a committed event can never miss a delivery, and a rolled-back one never
-- had any. One INSERT per statement that wrote events, joined against the
-- enabled triggers. Paused triggers still get deliveries: they queue until
-- resumed. Loop guard: a write made on behalf of trigger X (transaction
-- setting threefactor.caused_by = X, set by withEventTransaction from the
-- x-threefactor-trigger header a handler passes back) is never routed to X.
CREATE OR REPLACE FUNCTION threefactor.route_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO threefactor.deliveries (event_id, trigger_name, max_attempts, ordering_key, event_xid, event_seq)
  SELECT e.id, t.name, t.max_attempts, threefactor.ordering_key(t, e), e.xid, e.seq
  FROM new_events AS e
  JOIN threefactor.event_triggers AS t ON t.enabled AND threefactor.trigger_matches(t, e)
  WHERE t.name IS DISTINCT FROM nullif(current_setting('threefactor.caused_by', true), '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Table capture (CDC): one row trigger per captured table writes each change
-- into the event log. Session variables and trace context come from the
-- events columns' defaults (transaction-local settings), so writes from psql
-- or raw SQL are captured too, just without an actor. Trigger arguments are
-- the primary-key columns, which make the aggregate id. SECURITY DEFINER: the
-- writer needs rights on its own table only.
CREATE OR REPLACE FUNCTION threefactor.capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  old_row jsonb;
  new_row jsonb;
  key text;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  -- An UPDATE that changes nothing is not a change.
  IF TG_OP = 'UPDATE' AND old_row = new_row THEN RETURN NULL; END IF;
  SELECT string_agg(coalesce(new_row, old_row) ->> k.col, ',' ORDER BY k.ord)
    INTO key
    FROM unnest(TG_ARGV) WITH ORDINALITY AS k(col, ord);
  INSERT INTO threefactor.events (type, aggregate_type, aggregate_id, payload)
  VALUES (
    TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME || '.' || TG_OP,
    'table:' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
    coalesce(key, ''),
    jsonb_build_object('op', TG_OP, 'data', jsonb_build_object('old', old_row, 'new', new_row))
  );
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Makes the capture triggers match the enabled table triggers: one trigger
-- per captured table, firing on the union of their operations; stale ones are
-- dropped. Idempotent: a table already right is not touched (no DDL lock).
-- Called by trigger sync under its advisory lock, as the engine's role (which
-- needs the TRIGGER privilege on captured tables). The pinned search_path
-- makes pg_get_triggerdef print qualified names, so definitions compare equal.
CREATE OR REPLACE FUNCTION threefactor.sync_capture() RETURNS TABLE (captured_table text, action text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  rel regclass;
  keys text;
  wanted text;
  existing text;
  kept oid[] := '{}';
BEGIN
  FOR r IN
    SELECT t.capture_table AS tbl,
           min(t.name) AS trigger_name,
           array_agg(DISTINCT op) AS ops
    FROM threefactor.event_triggers AS t, unnest(t.capture_ops) AS op
    WHERE t.enabled AND t.match_kind = 'table'
    GROUP BY t.capture_table
  LOOP
    rel := to_regclass(format('%I.%I', split_part(r.tbl, '.', 1), substr(r.tbl, length(split_part(r.tbl, '.', 1)) + 2)));
    IF rel IS NULL THEN
      RAISE EXCEPTION 'event trigger "%" captures table %, which does not exist', r.trigger_name, r.tbl
        USING ERRCODE = 'undefined_table';
    END IF;
    IF (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = rel) = 'threefactor'::regnamespace THEN
      RAISE EXCEPTION 'event trigger "%" cannot capture %: it is part of the event machinery', r.trigger_name, r.tbl;
    END IF;
    SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
      INTO keys
      FROM pg_index AS i
      JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
      WHERE i.indrelid = rel AND i.indisprimary;
    -- Operations in the order pg_get_triggerdef prints them, so an unchanged
    -- trigger compares equal.
    wanted := format(
      'CREATE TRIGGER threefactor_capture AFTER %s ON %s FOR EACH ROW EXECUTE FUNCTION threefactor.capture(%s)',
      (SELECT string_agg(op, ' OR ' ORDER BY array_position(ARRAY['INSERT', 'DELETE', 'UPDATE'], op)) FROM unnest(r.ops) AS op),
      (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = rel),
      coalesce(keys, '')
    );
    SELECT pg_get_triggerdef(tg.oid) INTO existing
      FROM pg_trigger AS tg WHERE tg.tgrelid = rel AND tg.tgname = 'threefactor_capture';
    kept := kept || rel::oid;
    IF existing IS DISTINCT FROM wanted THEN
      EXECUTE replace(wanted, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
      captured_table := r.tbl;
      action := CASE WHEN existing IS NULL THEN 'installed' ELSE 'updated' END;
      RETURN NEXT;
    END IF;
  END LOOP;
  FOR r IN
    SELECT format('%I.%I', n.nspname, c.relname) AS rel_name
    FROM pg_trigger AS tg
    JOIN pg_class AS c ON c.oid = tg.tgrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE tg.tgname = 'threefactor_capture' AND NOT (tg.tgrelid = ANY (kept))
  LOOP
    EXECUTE format('DROP TRIGGER threefactor_capture ON %s', r.rel_name);
    captured_table := r.rel_name;
    action := 'removed';
    RETURN NEXT;
  END LOOP;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_append_only ON threefactor.events;
--> statement-breakpoint
CREATE TRIGGER events_append_only
  BEFORE UPDATE ON threefactor.events
  FOR EACH ROW EXECUTE FUNCTION threefactor.events_append_only();
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_notify ON threefactor.events;
--> statement-breakpoint
CREATE TRIGGER events_notify
  AFTER INSERT ON threefactor.events
  FOR EACH STATEMENT EXECUTE FUNCTION threefactor.events_notify();
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_route ON threefactor.events;
--> statement-breakpoint
CREATE TRIGGER events_route
  AFTER INSERT ON threefactor.events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION threefactor.route_events();
--> statement-breakpoint
-- The earlier layout's capture triggers are re-pointed, with the same
-- operations and key columns, then its functions go. Printed under a
-- search_path of pg_catalog alone, every name in the definition is qualified.
DO $$
DECLARE
  r record;
  saved text := current_setting('search_path');
BEGIN
  IF to_regprocedure('public.threefactor_route_events()') IS NULL THEN RETURN; END IF;
  PERFORM set_config('search_path', 'pg_catalog', true);
  FOR r IN
    SELECT pg_get_triggerdef(tg.oid) AS def
    FROM pg_trigger AS tg
    WHERE tg.tgname = 'threefactor_capture' AND tg.tgfoid = 'public.threefactor_capture()'::regprocedure
  LOOP
    EXECUTE replace(
      replace(r.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER'),
      'EXECUTE FUNCTION public.threefactor_capture(', 'EXECUTE FUNCTION threefactor.capture(');
  END LOOP;
  PERFORM set_config('search_path', saved, true);
  DROP FUNCTION public.threefactor_capture();
  DROP FUNCTION public.threefactor_route_events();
  DROP FUNCTION public.threefactor_events_notify();
  DROP FUNCTION public.threefactor_events_append_only();
  DROP FUNCTION public.threefactor_sync_capture();
  DROP FUNCTION public.threefactor_trigger_matches(threefactor.event_triggers, threefactor.events);
  DROP FUNCTION public.threefactor_ordering_key(threefactor.event_triggers, threefactor.events);
END
$$;
--> statement-breakpoint
-- Only the engine's role calls these; trigger functions need no EXECUTE
-- grant to fire, so writers lose nothing.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA threefactor FROM PUBLIC;
