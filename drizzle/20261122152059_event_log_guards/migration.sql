-- The event log is history: rows are never updated in place.
-- DELETE stays possible for an operator's configured retention.
CREATE FUNCTION threefactor_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_append_only
  BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION threefactor_events_append_only();
--> statement-breakpoint
-- One wake-up per statement, with a constant payload: PostgreSQL folds
-- identical notifications within a transaction into one, so a transaction
-- sends at most one NOTIFY however many events it writes. Listeners read the
-- truth from the table; the notification only says "look".
CREATE FUNCTION threefactor_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('threefactor_events', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_notify
  AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION threefactor_events_notify();
