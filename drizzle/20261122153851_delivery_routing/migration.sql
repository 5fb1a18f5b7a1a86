-- Routing: deliveries come into existence in the event's own transaction, so
-- a committed event can never miss a delivery, and a rolled-back one never
-- had any. Table capture writes row changes into the event log, where the
-- same routing applies.

-- Does trigger t route event e? The one definition of matching, used by the
-- routing trigger below and by replay (src/events/sql/replayDeliveries.ts).
-- An UPDATE reaches a table trigger only if one of its listened columns
-- changed (all columns when update_columns is null).
CREATE FUNCTION threefactor_trigger_matches(t event_triggers, e events) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE t.match_kind
    WHEN 'event' THEN
      e.type = ANY (t.event_types)
      OR EXISTS (SELECT 1 FROM unnest(t.event_prefixes) AS p(prefix) WHERE starts_with(e.type, p.prefix))
    WHEN 'table' THEN
      e.aggregate_type = 'table:' || t.capture_table
      AND (e.payload ->> 'op') = ANY (t.capture_ops)
      AND (
        (e.payload ->> 'op') <> 'UPDATE'
        OR t.update_columns IS NULL
        OR EXISTS (
          SELECT 1 FROM unnest(t.update_columns) AS c(col)
          WHERE (e.payload #> ARRAY['data', 'old', c.col]) IS DISTINCT FROM (e.payload #> ARRAY['data', 'new', c.col])
        )
      )
    ELSE false
  END
$$;
--> statement-breakpoint
-- The key deliveries of trigger t are serialized by, for event e (null: no
-- ordering). For captured rows a payload field is read from the row.
CREATE FUNCTION threefactor_ordering_key(t event_triggers, e events) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN t.ordering = 'aggregate' THEN e.aggregate_type || ':' || e.aggregate_id
    WHEN starts_with(t.ordering, 'payload:') THEN
      CASE WHEN starts_with(e.aggregate_type, 'table:') THEN
        coalesce(nullif(e.payload #> '{data,new}', 'null'::jsonb), e.payload #> '{data,old}') ->> substr(t.ordering, 9)
      ELSE
        e.payload ->> substr(t.ordering, 9)
      END
  END
$$;
--> statement-breakpoint
-- One INSERT per statement that wrote events, joined against the enabled
-- triggers. Paused triggers still get deliveries: they queue until resumed.
-- Loop guard: a write made on behalf of trigger X (transaction setting
-- threefactor.caused_by = X, set by withEventTransaction from the
-- x-threefactor-trigger header a handler passes back) is never routed to X.
CREATE FUNCTION threefactor_route_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO deliveries (event_id, trigger_name, max_attempts, ordering_key, event_xid, event_seq)
  SELECT e.id, t.name, t.max_attempts, threefactor_ordering_key(t, e), e.xid, e.seq
  FROM new_events AS e
  JOIN event_triggers AS t ON t.enabled AND threefactor_trigger_matches(t, e)
  WHERE t.name IS DISTINCT FROM nullif(current_setting('threefactor.caused_by', true), '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_route
  AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION threefactor_route_events();
--> statement-breakpoint
-- Table capture (CDC): one row trigger per captured table writes each change
-- into the event log. Session variables and trace context come from the
-- events columns' defaults (transaction-local settings), so writes from psql
-- or raw SQL are captured too, just without an actor. Trigger arguments are
-- the primary-key columns, which make the aggregate id.
CREATE FUNCTION threefactor_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
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
  INSERT INTO events (type, aggregate_type, aggregate_id, payload)
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
-- Called by trigger sync under its advisory lock.
CREATE FUNCTION threefactor_sync_capture() RETURNS TABLE (captured_table text, action text)
LANGUAGE plpgsql AS $$
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
    FROM event_triggers AS t, unnest(t.capture_ops) AS op
    WHERE t.enabled AND t.match_kind = 'table'
    GROUP BY t.capture_table
  LOOP
    rel := to_regclass(format('%I.%I', split_part(r.tbl, '.', 1), substr(r.tbl, length(split_part(r.tbl, '.', 1)) + 2)));
    IF rel IS NULL THEN
      RAISE EXCEPTION 'event trigger "%" captures table %, which does not exist', r.trigger_name, r.tbl
        USING ERRCODE = 'undefined_table';
    END IF;
    IF rel IN ('events'::regclass, 'deliveries'::regclass, 'delivery_attempts'::regclass, 'event_triggers'::regclass) THEN
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
      'CREATE TRIGGER threefactor_capture AFTER %s ON %s FOR EACH ROW EXECUTE FUNCTION threefactor_capture(%s)',
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
    SELECT tg.tgrelid::regclass AS rel_name
    FROM pg_trigger AS tg
    WHERE tg.tgname = 'threefactor_capture' AND NOT (tg.tgrelid = ANY (kept))
  LOOP
    EXECUTE format('DROP TRIGGER threefactor_capture ON %s', r.rel_name);
    captured_table := r.rel_name::text;
    action := 'removed';
    RETURN NEXT;
  END LOOP;
END;
$$;
