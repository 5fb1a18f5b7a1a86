-- Engine events: the engine writes its own events into the log (type prefix
-- `threefactor.`, src/engine/events/engineEvents.ts): the completer one per
-- flushed batch of delivery outcomes, the admin operations one per pause,
-- resume, redeliver and replay. They exist so the realtime hub (and the
-- causal tree it feeds) sees what happened to deliveries; they are never
-- routed to a trigger, so they cost no delivery and cannot loop.
--
-- trigger_matches is the one definition of matching (live routing and
-- replay), so the exclusion lives here: the CASE tests it first, before the
-- trigger's own match and condition.
CREATE OR REPLACE FUNCTION threefactor.trigger_matches(t threefactor.event_triggers, e threefactor.events) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN pg_catalog.starts_with(e.type, 'threefactor.') THEN false
  WHEN CASE t.match_kind
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
-- Dispatchers wake for deliveries, not for events: routing sends
-- threefactor_deliveries (DELIVERIES_CHANNEL, src/engine/events/channels.ts)
-- when it created at least one, and the claim loop listens to that channel
-- alone. An engine event (or any event no trigger wants) creates none, so it
-- wakes no dispatcher into an empty claim; the hub still gets
-- threefactor_events for every event (events_notify, unchanged).
-- PostgreSQL folds identical notifications, so a transaction still sends at
-- most one per channel, and the commit-time notify lock is taken once per
-- transaction however many channels it notifies.
CREATE OR REPLACE FUNCTION threefactor.route_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO threefactor.deliveries (event_id, trigger_name, max_attempts, ordering_key, event_xid, event_seq)
  SELECT e.id, t.name, t.max_attempts, threefactor.ordering_key(t, e), e.xid, e.seq
  FROM new_events AS e
  JOIN threefactor.event_triggers AS t ON t.enabled AND threefactor.trigger_matches(t, e)
  WHERE t.name IS DISTINCT FROM nullif(current_setting('threefactor.caused_by', true), '');
  IF FOUND THEN
    PERFORM pg_notify('threefactor_deliveries', '');
  END IF;
  RETURN NULL;
END;
$$;
