/**
 * Turns a trigger definition into the routing columns of `event_triggers`
 * (what the SQL routing trigger matches on), and rejects definitions that
 * could never route or deliver anything, naming the trigger.
 */
import { urlTemplateProblem } from '../../dispatcher/delivery/urlTemplate.js';
import { STEP_EVENT_TYPE } from '../../../kit/contract.js';
import { isWorkflowTrigger } from '../../workflows/triggers.js';
import { ENGINE_EVENT_PREFIX } from '../engineEvents.js';
import { conditionProblem } from './condition.js';
import { retryPolicy, TRIGGER_NAME, type TriggerDefinition } from './triggerDefinition.js';

export interface RoutingColumns {
  matchKind: 'event' | 'table';
  eventTypes: string[];
  eventPrefixes: string[];
  captureTable: string | null;
  captureOps: string[];
  updateColumns: string[] | null;
  ordering: string | null;
  maxAttempts: number;
  enabled: boolean;
  /** Routing evaluates the definition's condition (compiled at sync into threefactor.trigger_condition). */
  hasCondition: boolean;
}

export class TriggerDefinitionError extends Error {
  override name = 'TriggerDefinitionError';
}

/**
 * A type or pattern aimed at the engine's events (`threefactor.x`, `threefactor.*`, `threefactor*`).
 * A broad pattern such as `*` is accepted: routing skips engine events whatever the trigger says.
 */
function matchesEngineEvents(type: string): boolean {
  const name = type.endsWith('*') ? type.slice(0, -1) : type;
  return name.startsWith(ENGINE_EVENT_PREFIX) || (type.endsWith('*') && name === ENGINE_EVENT_PREFIX.slice(0, -1));
}

export function routingColumns(def: TriggerDefinition): RoutingColumns {
  const fail = (why: string): never => {
    throw new TriggerDefinitionError(`event trigger "${def.name}": ${why}`);
  };
  if (!TRIGGER_NAME.test(def.name)) fail('name must be 1-100 characters of letters, digits, "_", "-" or "."');
  const policy = retryPolicy(def);
  if (!Number.isInteger(policy.numRetries) || policy.numRetries < 0) fail('retry.numRetries must be a whole number >= 0');
  if (!(policy.intervalSec >= 0) || !(policy.maxIntervalSec >= policy.intervalSec)) fail('retry intervals must satisfy 0 <= intervalSec <= maxIntervalSec');
  if (!(policy.timeoutSec > 0)) fail('retry.timeoutSec must be > 0');

  const target = def.target;
  if (target.kind === 'webhook') {
    // A template is checked as it will be once filled in: the environment is the dispatcher's, not known here.
    const problem = typeof target.url === 'string' ? urlTemplateProblem(target.url) : 'must be an http(s) URL';
    if (problem) fail(`target.url ${problem}`);
  }
  if (target.kind === 'webhookFromEnv' && !target.env) fail('target.env is empty');
  if (target.kind === 'inProcess' && !target.handler) fail('target.handler is empty');
  for (const h of def.headers ?? []) {
    if (!h.name || (h.value === undefined) === (h.valueFromEnv === undefined)) fail(`header "${h.name}" needs exactly one of value or valueFromEnv`);
  }

  for (const status of def.permanentStatuses ?? []) {
    if (!Number.isInteger(status) || status < 300 || status > 599) fail(`permanentStatuses: ${String(status)} is not a non-2xx HTTP status (300-599)`);
  }
  if (def.pauseOnGone !== undefined && typeof def.pauseOnGone !== 'boolean') fail('pauseOnGone must be true or false');
  if (def.concurrency !== undefined && !(Number.isInteger(def.concurrency) && def.concurrency >= 1)) fail('concurrency must be a whole number >= 1');
  if (def.ratePerSecond !== undefined && !(typeof def.ratePerSecond === 'number' && def.ratePerSecond > 0 && Number.isFinite(def.ratePerSecond))) {
    fail('ratePerSecond must be a number > 0');
  }

  const ordering = !def.orderingKey ? null : def.orderingKey === 'aggregate' ? 'aggregate' : `payload:${def.orderingKey.payloadField}`;
  const match = def.match;
  if (def.condition != null) {
    const problem = conditionProblem(def.condition, match.kind);
    if (problem) fail(`condition: ${problem}`);
  }
  const common = { ordering, maxAttempts: policy.numRetries + 1, enabled: def.enabled ?? true, hasCondition: def.condition != null };
  if (match.kind === 'event') {
    if (match.types.length === 0) fail('match.types is empty');
    const eventTypes: string[] = [];
    const eventPrefixes: string[] = [];
    for (const type of match.types) {
      if (type.endsWith('*')) eventPrefixes.push(type.slice(0, -1));
      else eventTypes.push(type);
      if (type.slice(0, -1).includes('*')) fail(`type pattern "${type}" may only end with "*"`);
      // A workflow handler's trigger (src/engine/workflows/triggers.ts) names the step event; routing never uses it.
      if (matchesEngineEvents(type) && !(type === STEP_EVENT_TYPE && isWorkflowTrigger(def.name))) {
        fail(`type "${type}" names the engine's own events ("${ENGINE_EVENT_PREFIX}*"), which are never delivered to triggers`);
      }
    }
    return { matchKind: 'event', eventTypes, eventPrefixes, captureTable: null, captureOps: [], updateColumns: null, ...common };
  }
  if (!match.schema || !match.table) fail('match.schema and match.table are required');
  const captureOps = (['insert', 'update', 'delete'] as const).filter((op) => match[op]).map((op) => op.toUpperCase());
  if (captureOps.length === 0 && !match.enableManual) fail('a table trigger needs insert, update or delete (or enableManual)');
  const columns = match.update?.columns;
  if (Array.isArray(columns) && columns.length === 0) fail('update.columns is empty: use "*" for any column');
  for (const op of ['insert', 'update', 'delete'] as const) {
    const payload = match[op]?.payload;
    if (payload === undefined || payload === '*') continue;
    if (!Array.isArray(payload) || payload.length === 0 || payload.some((c) => typeof c !== 'string' || !c)) {
      fail(`${op}.payload must be "*" or a non-empty list of column names`);
    }
  }
  return {
    matchKind: 'table',
    eventTypes: [],
    eventPrefixes: [],
    captureTable: `${match.schema}.${match.table}`,
    captureOps,
    updateColumns: columns === undefined || columns === '*' ? null : columns,
    ...common,
  };
}
