-- Durable workflows (issue 15, docs/workflows.md): definitions by version, instances,
-- their step history, the waits in progress and the signals that made an instance ready
-- (src/engine/db/schema/workflows.ts says what each column is).
CREATE TABLE "threefactor"."workflow_definitions" (
	"name" text,
	"version" integer,
	"definition" jsonb NOT NULL,
	"digest" text NOT NULL,
	"current" boolean DEFAULT false NOT NULL,
	"start_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"start_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"start_has_condition" boolean DEFAULT false NOT NULL,
	"key_field" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_definitions_pkey" PRIMARY KEY("name","version")
);
--> statement-breakpoint
CREATE TABLE "threefactor"."workflow_instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"workflow" text NOT NULL,
	"version" integer NOT NULL,
	"key" text NOT NULL,
	"status" text NOT NULL,
	"step_index" integer DEFAULT 0 NOT NULL,
	"phase" text DEFAULT 'forward' NOT NULL,
	"started_by_event" uuid NOT NULL,
	"input" jsonb NOT NULL,
	"results" jsonb DEFAULT '{}' NOT NULL,
	"failure" jsonb,
	"current_step" uuid,
	"last_event" uuid,
	"timeout_fired" boolean DEFAULT false NOT NULL,
	"wake_at" timestamp with time zone,
	"ready" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "threefactor"."workflow_signals" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "threefactor"."workflow_signals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"instance_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"step_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "threefactor"."workflow_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"instance_id" uuid NOT NULL,
	"step_index" integer NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"phase" text NOT NULL,
	"handler" text,
	"status" text DEFAULT 'running' NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"delivery_id" uuid,
	"result" jsonb,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "threefactor"."workflow_waits" (
	"instance_id" uuid PRIMARY KEY,
	"key" text NOT NULL,
	"step_index" integer NOT NULL,
	"step_id" uuid NOT NULL,
	"for_condition" text,
	"fail_condition" text,
	"for_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"for_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"fail_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"fail_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "threefactor"."workflow_waits_ahead" (
	"instance_id" uuid PRIMARY KEY,
	"key" text NOT NULL,
	"step_index" integer NOT NULL,
	"step_id" uuid NOT NULL,
	"for_condition" text,
	"fail_condition" text,
	"for_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"for_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"fail_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"fail_prefixes" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "workflow_definitions_current_idx" ON "threefactor"."workflow_definitions" ("name") WHERE "current";--> statement-breakpoint
CREATE INDEX "workflow_instances_ready_idx" ON "threefactor"."workflow_instances" ("id") WHERE "ready";--> statement-breakpoint
CREATE INDEX "workflow_instances_wake_idx" ON "threefactor"."workflow_instances" ("wake_at") WHERE "finished_at" IS NULL AND "wake_at" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_instances_start_idx" ON "threefactor"."workflow_instances" ("started_by_event","workflow");--> statement-breakpoint
CREATE INDEX "workflow_instances_workflow_idx" ON "threefactor"."workflow_instances" ("workflow","created_at");--> statement-breakpoint
CREATE INDEX "workflow_instances_status_idx" ON "threefactor"."workflow_instances" ("status","updated_at");--> statement-breakpoint
CREATE INDEX "workflow_signals_instance_idx" ON "threefactor"."workflow_signals" ("instance_id","id");--> statement-breakpoint
CREATE INDEX "workflow_steps_instance_idx" ON "threefactor"."workflow_steps" ("instance_id","started_at");--> statement-breakpoint
CREATE INDEX "workflow_waits_key_idx" ON "threefactor"."workflow_waits" ("key");--> statement-breakpoint
CREATE INDEX "workflow_waits_ahead_key_idx" ON "threefactor"."workflow_waits_ahead" ("key");--> statement-breakpoint
ALTER TABLE "threefactor"."workflow_signals" ADD CONSTRAINT "workflow_signals_instance_id_workflow_instances_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "threefactor"."workflow_instances"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "threefactor"."workflow_steps" ADD CONSTRAINT "workflow_steps_instance_id_workflow_instances_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "threefactor"."workflow_instances"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "threefactor"."workflow_waits" ADD CONSTRAINT "workflow_waits_instance_id_workflow_instances_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "threefactor"."workflow_instances"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "threefactor"."workflow_waits_ahead" ADD CONSTRAINT "workflow_waits_ahead_instance_id_workflow_instances_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "threefactor"."workflow_instances"("id") ON DELETE CASCADE;
--> statement-breakpoint
-- section: conditions (starts and waits match compiled conditions)
-- A workflow's start and wait conditions (the trigger condition syntax,
-- src/engine/events/triggers/condition.ts) are compiled at sync into one
-- branch each of workflow_condition, keyed by match key (`<workflow>@<version>:start`,
-- `<workflow>@<version>:<step>:for|failOn`, src/engine/workflows/matchKeys.ts).
-- Only a start or wait whose row names a condition calls it. Until a sync
-- writes conditions it lets everything through.
CREATE OR REPLACE FUNCTION threefactor.workflow_condition(match_key text, e threefactor.events) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN true;
END
$$;
--> statement-breakpoint
-- As replace_trigger_condition (…_delivery_policy): no catalog write when the
-- body is unchanged, and the new body is run once before the sync commits.
CREATE OR REPLACE FUNCTION threefactor.replace_workflow_condition(body text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF body IS NOT DISTINCT FROM (
    SELECT p.prosrc FROM pg_proc AS p WHERE p.oid = 'threefactor.workflow_condition(text, threefactor.events)'::regprocedure
  ) THEN
    RETURN false;
  END IF;
  EXECUTE format(
    'CREATE OR REPLACE FUNCTION threefactor.workflow_condition(match_key text, e threefactor.events) RETURNS boolean '
    'LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS %L', body);
  PERFORM threefactor.workflow_condition(NULL, NULL);
  RETURN true;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION threefactor.workflow_condition(text, threefactor.events) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION threefactor.replace_workflow_condition(text) FROM PUBLIC;
--> statement-breakpoint
-- section: the events trigger (starts, waits and step completions, in the event's transaction)
-- In the transaction that wrote the events, so a committed event can never
-- miss its start or its signal, and a rolled-back one never had any:
-- 1. starts: each new non-engine event matching a current definition's start
--    makes an instance, ready at step 0 (one per (event, workflow)), with its
--    first wait registered ahead (workflow_waits_ahead);
-- 2. waits: each new non-engine event of the key of an instance in a wait
--    (workflow_waits) or with one registered ahead, that the wait accepts
--    (`for`) or fails on (`failOn`, which wins), is a signal;
-- 3. step completions: each outcome 'delivered' or 'dead' of a
--    threefactor.deliveries.progressed event (the completer's, written in
--    the completion statement) whose event is a step's call is a signal.
-- An instance with a signal is set ready even when it is already: a runner
-- advancing it holds its row, so this update waits for that batch's commit
-- (which cleared ready without seeing this signal) and then sets it again;
-- a `WHERE NOT ready` would skip the row and lose the signal.
-- An instance with a signal is ready, and one notification on
-- threefactor_workflows (WORKFLOWS_CHANNEL, src/engine/events/channels.ts)
-- wakes the runners. With no definition stored at all it returns at once;
-- otherwise each part first asks, with one cheap probe, whether anything can
-- match (an event of a current definition's start types, an event of the key
-- of an instance in or ahead of a wait, a progressed event), and writes only
-- then (scripts/workflowTriggerCost.ts measures it).
CREATE OR REPLACE FUNCTION threefactor.workflow_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  woke boolean := false;
  n integer;
BEGIN
  -- No workflow ever stored (an app without workflows): nothing can start, wait or have a step call.
  IF NOT EXISTS (SELECT 1 FROM threefactor.workflow_definitions) THEN
    RETURN NULL;
  END IF;
  IF EXISTS (
    SELECT 1 FROM new_events AS e JOIN threefactor.workflow_definitions AS d ON d.current
      AND (e.type = ANY (d.start_types) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(d.start_prefixes) AS p(prefix) WHERE pg_catalog.starts_with(e.type, p.prefix)))
  ) THEN
    -- Each new instance's first wait is registered at once (its step id chosen here), so an answer that commits
    -- before the runner's first batch (or during the calls before that wait) is signalled for it
    -- (src/engine/workflows/advance.ts, registerAhead).
    WITH started AS (
      INSERT INTO threefactor.workflow_instances (workflow, version, key, status, step_index, phase, started_by_event, input, last_event, ready)
      SELECT d.name, d.version, coalesce(CASE WHEN d.key_field IS NULL THEN e.aggregate_id ELSE e.payload ->> d.key_field END, e.aggregate_id),
        'running', 0, 'forward', e.id, e.payload, e.id, true
      FROM new_events AS e
      JOIN threefactor.workflow_definitions AS d ON d.current
        AND (e.type = ANY (d.start_types) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(d.start_prefixes) AS p(prefix) WHERE pg_catalog.starts_with(e.type, p.prefix)))
      WHERE NOT pg_catalog.starts_with(e.type, 'threefactor.')
        AND (NOT d.start_has_condition OR threefactor.workflow_condition(d.name || '@' || d.version || ':start', e))
      ON CONFLICT (started_by_event, workflow) DO NOTHING
      RETURNING id, workflow, version, key
    ), first_wait AS (
      SELECT s.id, s.key, s.workflow, s.version, (w.ord - 1)::int AS step_index, w.step
      FROM started AS s
      JOIN threefactor.workflow_definitions AS d ON d.name = s.workflow AND d.version = s.version
      CROSS JOIN LATERAL (
        SELECT x.step, x.ord FROM pg_catalog.jsonb_array_elements(d.definition -> 'steps') WITH ORDINALITY AS x(step, ord)
        WHERE x.step ->> 'kind' = 'wait' ORDER BY x.ord LIMIT 1
      ) AS w
    ), registered AS (
      INSERT INTO threefactor.workflow_waits_ahead (instance_id, key, step_index, step_id, for_types, for_prefixes, fail_types, fail_prefixes, for_condition, fail_condition)
      SELECT f.id, f.key, f.step_index, gen_random_uuid(),
        ARRAY(SELECT t FROM pg_catalog.jsonb_array_elements_text(f.step -> 'for' -> 'types') AS t WHERE NOT pg_catalog.starts_with(pg_catalog.reverse(t), '*')),
        ARRAY(SELECT pg_catalog.left(t, -1) FROM pg_catalog.jsonb_array_elements_text(f.step -> 'for' -> 'types') AS t WHERE pg_catalog.starts_with(pg_catalog.reverse(t), '*')),
        ARRAY(SELECT t FROM pg_catalog.jsonb_array_elements_text(coalesce(f.step -> 'failOn' -> 'types', '[]'::jsonb)) AS t WHERE NOT pg_catalog.starts_with(pg_catalog.reverse(t), '*')),
        ARRAY(SELECT pg_catalog.left(t, -1) FROM pg_catalog.jsonb_array_elements_text(coalesce(f.step -> 'failOn' -> 'types', '[]'::jsonb)) AS t WHERE pg_catalog.starts_with(pg_catalog.reverse(t), '*')),
        CASE WHEN nullif(f.step -> 'for' -> 'condition', 'null'::jsonb) IS NOT NULL THEN f.workflow || '@' || f.version || ':' || f.step_index || ':for' END,
        CASE WHEN nullif(f.step -> 'failOn' -> 'condition', 'null'::jsonb) IS NOT NULL THEN f.workflow || '@' || f.version || ':' || f.step_index || ':failOn' END
      FROM first_wait AS f
      RETURNING 1
    )
    SELECT count(*) INTO n FROM started;
    woke := n > 0;
  END IF;
  IF EXISTS (SELECT 1 FROM new_events AS e JOIN threefactor.workflow_waits AS w ON w.key = e.aggregate_id)
    OR EXISTS (SELECT 1 FROM new_events AS e JOIN threefactor.workflow_waits_ahead AS w ON w.key = e.aggregate_id) THEN
    WITH matched AS (
      SELECT w.instance_id, w.step_id, e.id AS event_id,
        CASE WHEN (e.type = ANY (w.fail_types) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(w.fail_prefixes) AS p(prefix) WHERE pg_catalog.starts_with(e.type, p.prefix)))
          AND (w.fail_condition IS NULL OR threefactor.workflow_condition(w.fail_condition, e)) THEN 'failOn'
        WHEN (e.type = ANY (w.for_types) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(w.for_prefixes) AS p(prefix) WHERE pg_catalog.starts_with(e.type, p.prefix)))
          AND (w.for_condition IS NULL OR threefactor.workflow_condition(w.for_condition, e)) THEN 'for'
        END AS kind
      FROM new_events AS e
      JOIN (
        SELECT instance_id, key, step_id, for_types, for_prefixes, fail_types, fail_prefixes, for_condition, fail_condition FROM threefactor.workflow_waits
        UNION ALL
        SELECT instance_id, key, step_id, for_types, for_prefixes, fail_types, fail_prefixes, for_condition, fail_condition FROM threefactor.workflow_waits_ahead
      ) AS w ON w.key = e.aggregate_id
      WHERE NOT pg_catalog.starts_with(e.type, 'threefactor.')
    ), signalled AS (
      INSERT INTO threefactor.workflow_signals (instance_id, step_id, event_id, kind)
      SELECT instance_id, step_id, event_id, kind FROM matched WHERE kind IS NOT NULL
      RETURNING instance_id
    )
    UPDATE threefactor.workflow_instances AS i SET ready = true
    WHERE i.id IN (SELECT instance_id FROM signalled);
    GET DIAGNOSTICS n = ROW_COUNT;
    woke := woke OR n > 0;
  END IF;
  IF EXISTS (SELECT 1 FROM new_events WHERE type = 'threefactor.deliveries.progressed') THEN
    WITH settled AS (
      SELECT (o ->> 'eventId')::uuid AS event_id
      FROM new_events AS e, pg_catalog.jsonb_array_elements(e.payload -> 'outcomes') AS o
      WHERE e.type = 'threefactor.deliveries.progressed' AND o ->> 'outcome' IN ('delivered', 'dead')
        -- Only step triggers' deliveries can be steps' calls (WORKFLOW_TRIGGER_PREFIX): a broker drain's outcomes
        -- cost no lookup here.
        AND pg_catalog.starts_with(o ->> 'trigger', 'workflow.')
    ), signalled AS (
      INSERT INTO threefactor.workflow_signals (instance_id, step_id, event_id, kind)
      SELECT st.instance_id, st.id, st.id, 'delivery'
      FROM settled JOIN threefactor.workflow_steps AS st ON st.id = settled.event_id
      RETURNING instance_id
    )
    UPDATE threefactor.workflow_instances AS i SET ready = true
    WHERE i.id IN (SELECT instance_id FROM signalled);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- Outcomes written inside a runner's batch (threefactor.runner_batch, src/engine/workflows/runner.ts): that
    -- batch's claim, later in this transaction, takes these instances, so no runner needs waking for them.
    woke := woke OR (n > 0 AND pg_catalog.current_setting('threefactor.runner_batch', true) IS DISTINCT FROM 'on');
  END IF;
  IF woke THEN
    PERFORM pg_notify('threefactor_workflows', '');
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_workflows ON threefactor.events;
--> statement-breakpoint
CREATE TRIGGER events_workflows
  AFTER INSERT ON threefactor.events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION threefactor.workflow_events();
