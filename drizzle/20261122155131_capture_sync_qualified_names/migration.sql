-- threefactor_sync_capture reports removed tables schema-qualified, like
-- the ones it installs (it printed them as the search path showed them).
CREATE OR REPLACE FUNCTION threefactor_sync_capture() RETURNS TABLE (captured_table text, action text)
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
