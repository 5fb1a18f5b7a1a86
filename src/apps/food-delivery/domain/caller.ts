/**
 * Who runs a rule, and with what: the viewer, the database, and the event
 * context the write path stamps on every event (session, trace). The GraphQL
 * context is one; so is anything else that has these three.
 */
import type { Database, EventContext, Viewer } from '../../../engine/index.js';

export interface Caller {
  viewer: Viewer;
  database: Database;
  events: EventContext;
}
