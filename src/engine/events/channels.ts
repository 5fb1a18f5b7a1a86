/**
 * The NOTIFY channels, named once. Both carry an empty payload: a wake-up,
 * never data; listeners read the truth from the tables.
 * - EVENTS_CHANNEL: sent by threefactor.events_notify() (drizzle/engine/…_threefactor_schema),
 *   at most once per transaction that wrote events; the realtime hub and the
 *   dispatchers listen.
 * - DELIVERIES_CHANNEL: sent by ./sql/wakeDispatchers.ts when deliveries
 *   became claimable without a new event (resume, redeliver, replay).
 */
export const EVENTS_CHANNEL = 'threefactor_events';
export const DELIVERIES_CHANNEL = 'threefactor_deliveries';
