/**
 * The engine's public API: everything an app may use, and nothing else.
 * An app imports this module only (test/architecture/imports.test.ts
 * enforces it); everything else under src/engine is internal.
 * docs/architecture.md describes each part.
 */

// The contract between the engine and an app.
export type { App, HandlerMode, InProcessOptions } from './app.js';

// The write path: CRUD plus events, in one transaction.
export { withEventTransaction, type EventContext, type EventTx, type NewEvent } from './events/transaction.js';
export type { JsonObject } from './db/schema/events.js';

// Declaring triggers.
export type {
  InProcessDelivery,
  InProcessHandler,
  OperationSpec,
  RetryPolicy,
  TriggerDefinition,
  TriggerMatch,
  TriggerTarget,
} from './events/triggers/triggerDefinition.js';
export type { TriggerCondition } from './events/triggers/condition.js';

// Declaring workflows (the mediator topology, docs/workflows.md).
export type { WorkflowDefinition, WorkflowEventMatch, WorkflowHandler, WorkflowStep } from './workflows/definition.js';

// The database and an app's own migrations.
export type { Database, Db, Tx } from './db/client.js';
export type { MigrationSet } from './db/migrate.js';
export { adoptLegacyHistory } from './db/legacyLayout.js';

// GraphQL: the one builder, the context, the client-facing errors, shared input checks and paging.
export { builder } from './graphql/builder.js';
export type { Context, Role, Viewer } from './graphql/context.js';
export { badInput, clientError, forbidden, notFound, type ErrorCode } from './graphql/errors.js';
export { reason, uuid } from './graphql/modules/validators.js';
export { cursorAt, timeCursor, timeKeysetOrder, timeKeysetWhere } from './graphql/modules/timeKeyset.js';

// Process plumbing an app's extras (the demo) need.
export type { Config } from './config.js';
export type { Logger } from './log.js';
export type { ExtraRoute } from './server/http.js';
export { mintToken } from './server/auth.js';

// Live subscriptions: one entry point for a live-state field, the rows it re-reads, and the app's own hub topics.
export { liveSubscription, type Admission, type LiveFeedSpec, type LiveRowSpec, type LiveRows, type LiveSubscriptionSpec } from './realtime/live.js';
export { aggregateTopic, type AppTopics } from './realtime/topics.js';
export type { LogEvent } from './realtime/sql/eventRow.js';

// Running an app: its own main calls run(app) for the engine's process commands (start, dispatch, migrate).
export { run } from './commands/run.js';
