-- Routing that PostgreSQL can inline. trigger_matches stays the one
-- definition of matching (live routing and replay), but a SQL function is
-- inlined into the query that calls it only when its body has no subquery;
-- with the EXISTS over unnest() it had, every (event, trigger) pair was a
-- call of the SQL-function executor: an app event and five triggers took
-- 0.33 ms of route_events, now 0.08 ms (EXPLAIN ANALYZE, PostgreSQL 15). The
-- prefix test is the starts-with operator over the array (`^@ ANY`), and the
-- changed-columns test, which needs its subquery, is a function of its own,
-- reached only for an UPDATE capture of a trigger with update_columns.
--
-- route_events also leaves engine events out before the join (trigger_matches
-- refuses them anyway): a completer batch's progressed event, or a workflow
-- step's call, cost the full join for nothing, 0.4 ms of each such insert.
CREATE OR REPLACE FUNCTION threefactor.columns_changed(payload jsonb, cols text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM pg_catalog.unnest(cols) AS c(col)
    WHERE (payload #> ARRAY['data', 'old', c.col]) IS DISTINCT FROM (payload #> ARRAY['data', 'new', c.col])
  )
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION threefactor.trigger_matches(t threefactor.event_triggers, e threefactor.events) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN pg_catalog.starts_with(e.type, 'threefactor.') THEN false
  WHEN CASE t.match_kind
    WHEN 'event' THEN
      e.type = ANY (t.event_types)
      OR e.type OPERATOR(pg_catalog.^@) ANY (t.event_prefixes)
    WHEN 'table' THEN
      e.aggregate_type = 'table:' || t.capture_table
      AND (e.payload ->> 'op') = ANY (t.capture_ops)
      AND (
        (e.payload ->> 'op') <> 'UPDATE'
        OR t.update_columns IS NULL
        OR threefactor.columns_changed(e.payload, t.update_columns)
      )
    ELSE false
  END
  THEN NOT t.has_condition OR threefactor.trigger_condition(t.name, e)
  ELSE false END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION threefactor.route_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO threefactor.deliveries (event_id, trigger_name, max_attempts, ordering_key, event_xid, event_seq)
  SELECT e.id, t.name, t.max_attempts, threefactor.ordering_key(t, e), e.xid, e.seq
  FROM new_events AS e
  JOIN threefactor.event_triggers AS t ON t.enabled AND threefactor.trigger_matches(t, e)
  WHERE NOT pg_catalog.starts_with(e.type, 'threefactor.')
    AND t.name IS DISTINCT FROM nullif(current_setting('threefactor.caused_by', true), '');
  IF FOUND THEN
    PERFORM pg_notify('threefactor_deliveries', '');
  END IF;
  RETURN NULL;
END;
$$;
