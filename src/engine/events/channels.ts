/**
 * The NOTIFY channels, named once. Both carry an empty payload: a wake-up,
 * never data; listeners read the truth from the tables.
 * - EVENTS_CHANNEL: sent by threefactor.events_notify() (drizzle/engine/…_threefactor_schema),
 *   at most once per transaction that wrote events, engine events included;
 *   the realtime hub listens.
 * - DELIVERIES_CHANNEL: deliveries may be claimable; the dispatchers' claim
 *   loops listen, and only to this. Sent by threefactor.route_events()
 *   (drizzle/engine/…_engine_events) when routing created a delivery, so an
 *   event no trigger wants (every engine event) wakes no dispatcher; and by
 *   ./sql/wakeDispatchers.ts (resume, redeliver, replay) and
 *   ./sql/insertManualDelivery.ts, which make deliveries claimable without
 *   routing. At most once per transaction too (identical notifications fold).
 * - WORKFLOWS_CHANNEL: workflow instances may be ready; the workflow runners
 *   listen (src/engine/workflows/runner.ts). Sent by threefactor.workflow_events()
 *   (drizzle/engine/…_workflows) when an event started or signalled an
 *   instance, and by retryWorkflow (src/engine/workflows/retry.ts).
 */
export const EVENTS_CHANNEL = 'threefactor_events';
export const DELIVERIES_CHANNEL = 'threefactor_deliveries';
export const WORKFLOWS_CHANNEL = 'threefactor_workflows';
