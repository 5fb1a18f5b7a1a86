/**
 * Checks a workflow definition before it is synced (one line naming the
 * workflow and the problem), and derives what SQL matches on: the start's
 * types and prefixes, the condition match keys, the digest that pins a
 * version's content.
 */
import { createHash } from 'node:crypto';
import { isEngineEventType } from '../events/engineEvents.js';
import { conditionProblem } from '../events/triggers/condition.js';
import { routingColumns, TriggerDefinitionError } from '../events/triggers/routing.js';
import type { WorkflowDefinition, WorkflowEventMatch } from './definition.js';
import { workflowTriggers } from './triggers.js';

/** A TriggerDefinitionError, so a process start reports it as one line and exits 2, as a bad trigger does. */
export class WorkflowDefinitionError extends TriggerDefinitionError {
  override name = 'WorkflowDefinitionError';
}

/**
 * Workflow names and handler keys become part of trigger names (`workflow.<name>.v<version>.<key>`, at most 100
 * characters with a version up to MAX_VERSION): plain, and no dots.
 */
const PLAIN = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_VERSION = 9999;

/** The name a step payload and the history give the start's compensation. */
export const START_STEP_NAME = '$start';

/** threefactor.workflow_condition's branch keys. */
export const matchKeys = {
  start: (name: string, version: number) => `${name}@${version}:start`,
  waitFor: (name: string, version: number, step: number) => `${name}@${version}:${step}:for`,
  waitFailOn: (name: string, version: number, step: number) => `${name}@${version}:${step}:failOn`,
};

/** Exact types and prefixes (`order.*` as `order.`), as event_triggers' routing columns keep them. */
export function typeColumns(match: WorkflowEventMatch): { types: string[]; prefixes: string[] } {
  return {
    types: match.types.filter((t) => !t.endsWith('*')),
    prefixes: match.types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1)),
  };
}

/**
 * sha256 of the definition's JSON with keys sorted: the same content gives the same digest whatever the key order.
 * Of `handlers` only the keys count: a handler's target and retry policy are its step trigger's, synced like any
 * trigger, so `start` (in-process targets) and `dispatch` (webhooks) on one database pin the same version.
 */
export function definitionDigest(definition: WorkflowDefinition): string {
  const pinned = { ...definition, handlers: Object.keys(definition.handlers).sort() };
  return createHash('sha256').update(canonicalJson(pinned)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function validateWorkflow(d: WorkflowDefinition): void {
  const fail = (why: string): never => {
    throw new WorkflowDefinitionError(`workflow "${String(d.name)}": ${why}`);
  };
  if (typeof d.name !== 'string' || !PLAIN.test(d.name)) fail('name must be 1-40 characters of letters, digits, "_" or "-"');
  if (!Number.isInteger(d.version) || d.version < 1 || d.version > MAX_VERSION) fail(`version must be a whole number from 1 to ${MAX_VERSION}`);
  const handlers = d.handlers ?? {};
  for (const key of Object.keys(handlers)) if (!PLAIN.test(key)) fail(`handler key "${key}" must be 1-40 characters of letters, digits, "_" or "-"`);
  const handler = (key: string | undefined, where: string) => {
    if (key !== undefined && !Object.hasOwn(handlers, key)) fail(`${where} names handler "${key}", which is not in handlers`);
  };
  const eventMatch = (m: WorkflowEventMatch | undefined, where: string) => {
    if (!m || !Array.isArray(m.types) || m.types.length === 0) fail(`${where}.types is empty`);
    for (const type of m!.types) {
      if (typeof type !== 'string' || type === '' || type === '*') fail(`${where}: type "${String(type)}" must name a type or a prefix`);
      if (type.slice(0, -1).includes('*')) fail(`${where}: type pattern "${type}" may only end with "*"`);
      if (isEngineEventType(type) || 'threefactor.'.startsWith(type.replace(/\*$/, ''))) fail(`${where}: type "${type}" names the engine's own events`);
    }
    if (m!.condition != null) {
      const problem = conditionProblem(m!.condition, 'event');
      if (problem) fail(`${where}.condition: ${problem}`);
    }
  };
  eventMatch(d.start, 'start');
  const key = d.start.key;
  if (key !== undefined && key !== 'aggregate' && !(typeof key === 'object' && typeof key.payloadField === 'string' && key.payloadField !== '')) {
    fail('start.key must be "aggregate" or { payloadField }');
  }
  handler(d.start.compensate, 'start.compensate');
  if (!Array.isArray(d.steps) || d.steps.length === 0) fail('steps is empty');
  const names = new Set<string>();
  d.steps.forEach((step, i) => {
    const at = `step ${i} ("${step.name}")`;
    if (typeof step.name !== 'string' || step.name === '' || step.name === START_STEP_NAME) fail(`step ${i}: name must be a non-empty string other than "${START_STEP_NAME}"`);
    if (names.has(step.name)) fail(`step name "${step.name}" is used twice`);
    names.add(step.name);
    handler(step.compensate, `${at}.compensate`);
    const timeout = (step as { timeoutSec?: unknown }).timeoutSec;
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout))) fail(`${at}.timeoutSec must be a number > 0`);
    switch (step.kind) {
      case 'call':
        if (!step.handler) fail(`${at} needs a handler`);
        handler(step.handler, at);
        break;
      case 'wait':
        eventMatch(step.for, `${at}.for`);
        if (step.failOn) eventMatch(step.failOn, `${at}.failOn`);
        handler(step.onTimeout, `${at}.onTimeout`);
        if (step.onTimeout && step.timeoutSec === undefined) fail(`${at}.onTimeout needs a timeoutSec`);
        break;
      case 'sleep':
        if ((step.seconds === undefined) === (step.untilField === undefined)) fail(`${at} needs exactly one of seconds or untilField`);
        if (step.seconds !== undefined && !(typeof step.seconds === 'number' && step.seconds >= 0 && Number.isFinite(step.seconds))) fail(`${at}.seconds must be a number >= 0`);
        break;
      default:
        fail(`${at}: kind must be call, wait or sleep`);
    }
  });
  // Each handler's target and retry, as its trigger will be checked.
  for (const trigger of workflowTriggers([d])) {
    try {
      routingColumns(trigger);
    } catch (err) {
      if (err instanceof TriggerDefinitionError) fail(`handler ${trigger.name.split('.').pop()}: ${err.message.replace(/^event trigger "[^"]*": /, '')}`);
      throw err;
    }
  }
}

/** Every condition of a stored definition, by match key. */
export function definitionConditions(d: WorkflowDefinition): Array<{ name: string; condition: unknown }> {
  const out: Array<{ name: string; condition: unknown }> = [];
  if (d.start.condition != null) out.push({ name: matchKeys.start(d.name, d.version), condition: d.start.condition });
  d.steps.forEach((step, i) => {
    if (step.kind !== 'wait') return;
    if (step.for.condition != null) out.push({ name: matchKeys.waitFor(d.name, d.version, i), condition: step.for.condition });
    if (step.failOn?.condition != null) out.push({ name: matchKeys.waitFailOn(d.name, d.version, i), condition: step.failOn.condition });
  });
  return out;
}
