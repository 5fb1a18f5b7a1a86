/**
 * Admin-API test kit: an in-process handler that records what each trigger
 * received (and fails on demand, to make dead letters), a dispatcher on the
 * test database driven through its real API, and the GraphQL fields the
 * admin tests read.
 */
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { deliveryMetricsHooks } from '../../src/engine/dispatcher/metrics.js';
import type { HasuraEventPayload } from '../../src/engine/events/payload.js';
import type { InProcessHandler, TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import type { TestDatabase } from './db.js';
import { TEST_WEBHOOK_SECRET, testLog } from './events.js';

export interface Recorder {
  /** Everything received, in arrival order. */
  received: HasuraEventPayload[];
  /** What one trigger received. */
  of(trigger: string): HasuraEventPayload[];
  /** Event ids one trigger received, in arrival order (repeats included). */
  idsOf(trigger: string): string[];
  /** Triggers whose deliveries fail (the handler throws) while listed. */
  failing: Set<string>;
  handler: InProcessHandler;
}

export function recorder(): Recorder {
  const received: HasuraEventPayload[] = [];
  const failing = new Set<string>();
  const of = (trigger: string) => received.filter((p) => p.trigger.name === trigger);
  return {
    received,
    failing,
    of,
    idsOf: (trigger) => of(trigger).map((p) => p.id),
    handler: async (payload) => {
      if (failing.has(payload.trigger.name)) throw new Error(`handler for ${payload.trigger.name} refused`);
      received.push(payload);
    },
  };
}

/** An event trigger delivered to the recorder in this process, dying at the first failure. */
export function recordedTrigger(name: string, types: string[], extra: Partial<TriggerDefinition> = {}): TriggerDefinition {
  return { name, match: { kind: 'event', types }, target: { kind: 'inProcess', handler: 'record' }, retry: { numRetries: 0 }, ...extra };
}

/** The real dispatcher, with the recorder as handler `record` and the metrics hooks attached. */
export function startRecordingDispatcher(db: TestDatabase, rec: Recorder, triggers: TriggerDefinition[]): Promise<Dispatcher> {
  return startDispatcher({
    database: db,
    log: testLog(),
    triggers,
    inProcessHandlers: { record: rec.handler },
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 100,
    hooks: deliveryMetricsHooks(),
  });
}

export const DELIVERY_FIELDS = `id triggerName source status attemptCount maxAttempts lastHttpStatus lastError completedAt
  event { id type }
  attempts { attempt outcome httpStatus durationMs responseBody error dispatcherId startedAt }`;

export const TRIGGER_FIELDS = 'name enabled paused kind eventTypes table operations manualEnabled targetKind target headerNames pending running dead retry { numRetries }';

export interface DeliveryView {
  id: string;
  triggerName: string;
  source: string;
  status: string;
  attemptCount: number;
  maxAttempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  completedAt: string | null;
  event: { id: string; type: string };
  attempts: Array<{ attempt: number; outcome: string; httpStatus: number | null; durationMs: number; responseBody: string | null; error: string | null; dispatcherId: string; startedAt: string }>;
}

export interface TriggerView {
  name: string;
  enabled: boolean;
  paused: boolean;
  kind: string;
  eventTypes: string[];
  table: string | null;
  operations: string[];
  manualEnabled: boolean;
  targetKind: string;
  target: string;
  headerNames: string[];
  pending: number;
  running: number;
  dead: number;
  retry: { numRetries: number };
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
