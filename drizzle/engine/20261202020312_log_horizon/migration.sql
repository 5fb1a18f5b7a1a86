-- The log's horizon as a function (src/engine/events/sql/horizon.ts says what
-- it is). Written inline into the claim and the hub's read, the same SQL made
-- the drain ~15% slower in a probe, although it is evaluated only when the
-- snapshot's plain xmin does not already decide (so the cost was in the
-- bigger statement, not in running it); as a function the statement stays
-- small and the function's own query is planned once per session.
CREATE OR REPLACE FUNCTION threefactor.log_horizon() RETURNS xid8
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  s pg_snapshot := pg_current_snapshot();
  h xid8;
BEGIN
  -- Transactions running in other databases cannot write this event log, so
  -- they do not hold it back; one not provably foreign does.
  SELECT min(x) INTO h
  FROM pg_snapshot_xip(s) AS x
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_activity AS a
    WHERE a.backend_xid = x::xid
      AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())
  );
  RETURN coalesce(h, pg_snapshot_xmax(s));
END;
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION threefactor.log_horizon() FROM PUBLIC;
