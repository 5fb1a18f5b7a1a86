/**
 * One instance's advance, as a pure function: from its row, its running (and
 * current) step rows with their deliveries' state, the signals that made it
 * ready, and the time, to the writes that move it on (steps finished and
 * started, the wait it now holds, its new row, the transition events). The
 * runner (./runner.ts) claims, reads, calls this for each instance of a batch
 * and writes all the results in one transaction. docs/workflows.md states the
 * rules; this is their one implementation.
 *
 * It goes as far as it can in one call: a step that needs nothing to happen
 * (a sleep already due, the step after a completed one) is taken at once, and
 * it stops at a call in flight, a wait, a sleep still to come, or an end.
 */
import type { StepPayload } from '../../kit/contract.js';
import type { JsonObject } from '../db/schema/events.js';
import type { WorkflowFailure, WorkflowPhase, WorkflowStatus, WorkflowStepKind, WorkflowStepStatus } from '../db/schema/workflows.js';
import { ENGINE_EVENTS } from '../events/engineEvents.js';
import type { WorkflowDefinition, WorkflowStep } from './definition.js';
import { workflowTriggerName } from './triggers.js';
import { matchKeys, START_STEP_NAME, typeColumns } from './validate.js';

export interface InstanceState {
  id: string;
  workflow: string;
  version: number;
  key: string;
  status: WorkflowStatus;
  stepIndex: number;
  phase: WorkflowPhase;
  startedByEvent: string;
  input: JsonObject;
  results: JsonObject;
  failure: WorkflowFailure | null;
  currentStep: string | null;
  lastEvent: string | null;
  timeoutFired: boolean;
  wakeAt: Date | null;
}

export type DeliveryState = 'pending' | 'running' | 'delivered' | 'dead';

/** A workflow_steps row that is running, or the instance's current one, with its call's delivery. */
export interface StepState {
  id: string;
  stepIndex: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  status: WorkflowStepStatus;
  attempt: number;
  deliveryId: string | null;
  /** null: no delivery (a wait or sleep), or it is gone (retention). */
  delivery: DeliveryState | null;
  /** The last delivered attempt's response body. */
  responseBody: string | null;
}

export interface SignalState {
  id: number;
  kind: 'for' | 'failOn' | 'delivery';
  stepId: string;
  eventId: string;
  /** The matched event's type ('for' and 'failOn'). */
  eventType: string | null;
}

export interface StepStart {
  id: string;
  stepIndex: number;
  name: string;
  kind: WorkflowStepKind;
  phase: WorkflowPhase;
  handler: string | null;
  attempt: number;
  /** A call: the step event's payload, the trigger its delivery goes to, and its cause. */
  call: { trigger: string; payload: StepPayload; causeEvent: string | null; causeDelivery: string | null } | null;
}

export interface StepFinish {
  id: string;
  status: Exclude<WorkflowStepStatus, 'running'>;
  result: unknown;
  error: string | null;
}

export interface WaitRow {
  instanceId: string;
  key: string;
  stepIndex: number;
  stepId: string;
  forTypes: string[];
  forPrefixes: string[];
  failTypes: string[];
  failPrefixes: string[];
  forCondition: string | null;
  failCondition: string | null;
}

export interface TransitionEvent {
  type: string;
  instanceId: string;
  payload: JsonObject;
  causeEvent: string | null;
}

export interface Advance {
  instance: InstanceState & { finished: boolean };
  starts: StepStart[];
  finishes: StepFinish[];
  /** The wait the instance is in now: a row to write, null to delete its row, undefined: unchanged. */
  wait: WaitRow | null | undefined;
  /** The wait registered ahead (workflow_waits_ahead), the same way. */
  ahead: WaitRow | null | undefined;
  events: TransitionEvent[];
  /** The signals read that this advance used up (all but those for a wait still ahead, which stay). */
  consumed: number[];
  /** Why nothing could be done, for the log (a definition that does not have this step). */
  problem?: string;
}

const TERMINAL: ReadonlySet<WorkflowStatus> = new Set(['completed', 'compensated', 'failed']);

export const isTerminal = (status: WorkflowStatus): boolean => TERMINAL.has(status);

/** A step's result from its call's answer: a kit reply's `result`, else the JSON body, else its text (null when empty). */
export function resultOf(body: string | null): unknown {
  if (body === null || body === '') return null;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'result' in parsed) return (parsed as { result: unknown }).result;
    return parsed;
  } catch {
    return body;
  }
}

/** A wait row of the instance (workflow_waits: the wait it is in; workflow_waits_ahead: the next one it will reach). */
export interface RegisteredWait {
  stepIndex: number;
  stepId: string;
}

export function advance(
  definition: WorkflowDefinition,
  instance: InstanceState,
  steps: readonly StepState[],
  signals: readonly SignalState[],
  now: Date,
  newId: () => string,
  registered: { current: RegisteredWait | null; ahead: RegisteredWait | null } = { current: null, ahead: null },
): Advance {
  const s: InstanceState = { ...instance, results: { ...instance.results } };
  const out: Advance = { instance: { ...s, finished: false }, starts: [], finishes: [], wait: undefined, ahead: undefined, events: [], consumed: [] };
  // The wait rows as they will be after this advance.
  let inWait: RegisteredWait | null = registered.current;
  let held: RegisteredWait | null = registered.ahead;
  const setWait = (row: WaitRow | null) => {
    out.wait = row;
    inWait = row && { stepIndex: row.stepIndex, stepId: row.stepId };
  };
  const setAhead = (row: WaitRow | null) => {
    out.ahead = row;
    held = row && { stepIndex: row.stepIndex, stepId: row.stepId };
  };
  const waitRow = (index: number, step: Extract<WorkflowStep, { kind: 'wait' }>, stepId: string): WaitRow => {
    const f = typeColumns(step.for);
    const x = step.failOn ? typeColumns(step.failOn) : { types: [], prefixes: [] };
    return {
      instanceId: s.id,
      key: s.key,
      stepIndex: index,
      stepId,
      forTypes: f.types,
      forPrefixes: f.prefixes,
      failTypes: x.types,
      failPrefixes: x.prefixes,
      forCondition: step.for.condition != null ? matchKeys.waitFor(definition.name, definition.version, index) : null,
      failCondition: step.failOn?.condition != null ? matchKeys.waitFailOn(definition.name, definition.version, index) : null,
    };
  };
  /**
   * Registers the first wait at or after `from` ahead of time, so an event that commits while the steps before it
   * run (a call's own write-back, an answer right after the start) is signalled for it; none: no row.
   */
  const registerAhead = (from: number) => {
    const k = definition.steps.findIndex((st, i) => i >= from && st.kind === 'wait');
    if (inWait || instance.status === 'waiting') setWait(null);
    if (k < 0) {
      if (held) setAhead(null);
      return;
    }
    if (held && held.stepIndex === k) return;
    setAhead(waitRow(k, definition.steps[k] as Extract<WorkflowStep, { kind: 'wait' }>, newId()));
  };
  const dropWait = () => {
    if (inWait || instance.status === 'waiting') setWait(null);
    if (held) setAhead(null);
  };
  const finished = new Set<string>();
  const finish = (step: StepState, status: StepFinish['status'], result: unknown, error: string | null) => {
    if (finished.has(step.id)) return;
    finished.add(step.id);
    out.finishes.push({ id: step.id, status, result, error });
  };
  const settle = (step: StepState): { delivered: unknown } | 'dead' | null => {
    if (step.delivery === 'delivered') return { delivered: resultOf(step.responseBody) };
    if (step.delivery === 'dead') return 'dead';
    return null;
  };
  const current = steps.find((r) => r.id === s.currentStep);
  // The delivery of the call whose completion moves the instance on: the next call's event is caused by it (the causal tree's edge).
  let causeDelivery: string | null = null;

  /** The instance's transition event, with its state now (the payload is built at once). */
  const transition = (type: string) => out.events.push({ type, instanceId: s.id, payload: transitionPayload(s), causeEvent: s.lastEvent });
  const end = (status: 'completed' | 'compensated' | 'failed', type: string) => {
    s.status = status;
    s.wakeAt = null;
    // A failed instance stays at its failed step: a retry starts it again from that row (its attempt + 1).
    if (status !== 'failed') s.currentStep = null;
    out.instance.finished = true;
    transition(type);
  };

  const startCall = (index: number, name: string, kind: 'call' | 'timeout' | 'compensate', phase: WorkflowPhase, handler: string, previous?: StepState): string => {
    const id = newId();
    out.starts.push({
      id,
      stepIndex: index,
      name,
      kind,
      phase,
      handler,
      attempt: previous && previous.stepIndex === index && previous.phase === phase && previous.kind === kind ? previous.attempt + 1 : 1,
      call: {
        trigger: workflowTriggerName(definition.name, definition.version, handler),
        payload: {
          workflow: s.workflow,
          version: s.version,
          instanceId: s.id,
          stepId: id,
          step: name,
          phase,
          input: s.input,
          results: { ...s.results },
          failure: s.failure,
        },
        causeEvent: s.lastEvent,
        causeDelivery,
      },
    });
    return id;
  };

  const startRow = (index: number, step: WorkflowStep, previous?: StepState, id = newId()): string => {
    const attempt = previous && previous.stepIndex === index && previous.phase === 'forward' && previous.kind === step.kind ? previous.attempt + 1 : 1;
    out.starts.push({ id, stepIndex: index, name: step.name, kind: step.kind, phase: 'forward', handler: null, attempt, call: null });
    return id;
  };

  /** Starts forward step `index` (or completes the instance past the last one); `previous`: the row being retried. */
  const startForward = (index: number, previous?: StepState) => {
    s.phase = 'forward';
    s.stepIndex = index;
    s.timeoutFired = false;
    const step = definition.steps[index];
    if (!step) {
      dropWait();
      return end('completed', ENGINE_EVENTS.workflowCompleted);
    }
    switch (step.kind) {
      case 'call':
        registerAhead(index + 1);
        s.currentStep = startCall(index, step.name, 'call', 'forward', step.handler, previous);
        s.status = 'running';
        s.wakeAt = step.timeoutSec === undefined ? null : new Date(now.getTime() + step.timeoutSec * 1000);
        return;
      case 'wait': {
        // The row registered ahead for this wait keeps its id, so the signals it already got are this wait's.
        const ahead = held && held.stepIndex === index && !previous ? held.stepId : undefined;
        const id = startRow(index, step, previous, ahead ?? newId());
        if (held) setAhead(null);
        setWait(waitRow(index, step, id));
        s.currentStep = id;
        s.status = 'waiting';
        s.wakeAt = step.timeoutSec === undefined ? null : new Date(now.getTime() + step.timeoutSec * 1000);
        // An event that came before the wait began ends it now.
        if (!settleWait(index, step, id)) transition(ENGINE_EVENTS.workflowWaiting);
        return;
      }
      case 'sleep': {
        registerAhead(index + 1);
        const until = sleepUntil(step, s.input, now);
        const id = startRow(index, step, previous);
        if (until.getTime() <= now.getTime()) {
          s.results[step.name] = { until: until.toISOString() };
          out.finishes.push({ id, status: 'completed', result: { until: until.toISOString() }, error: null });
          finished.add(id);
          return startForward(index + 1);
        }
        s.currentStep = id;
        s.status = 'sleeping';
        s.wakeAt = until;
        transition(ENGINE_EVENTS.workflowSleeping);
        return;
      }
    }
  };

  /** Ends wait `index` (row `rowId`) by its first signal, if it has one; true if it did. */
  function settleWait(index: number, step: Extract<WorkflowStep, { kind: 'wait' }>, rowId: string): boolean {
    const signal = signals.filter((g) => g.stepId === rowId && g.kind !== 'delivery').sort((a, b) => a.id - b.id)[0];
    if (!signal) return false;
    const row = { id: rowId } as StepState;
    if (signal.kind === 'failOn') {
      finish(row, 'failed', null, signal.eventType ?? 'failOn');
      s.lastEvent = signal.eventId;
      failForGood(index, signal.eventType ?? 'failOn', signal.eventId);
    } else {
      const result = { eventId: signal.eventId, type: signal.eventType };
      finish(row, 'completed', result, null);
      s.results[step.name] = result;
      s.lastEvent = signal.eventId;
      startForward(index + 1);
    }
    return true;
  }

  /** Runs the next compensation at or below `from` (-1: the start's), or ends. */
  const compensateFrom = (from: number, previous?: StepState) => {
    dropWait();
    s.phase = 'compensate';
    s.status = 'compensating';
    s.wakeAt = null;
    s.timeoutFired = false;
    for (let k = from; k >= 0; k--) {
      const step = definition.steps[k]!;
      if (step.compensate && Object.hasOwn(s.results, step.name)) {
        s.stepIndex = k;
        s.currentStep = startCall(k, step.name, 'compensate', 'compensate', step.compensate, previous);
        return;
      }
    }
    if (from >= -1 && definition.start.compensate) {
      s.stepIndex = -1;
      s.currentStep = startCall(-1, START_STEP_NAME, 'compensate', 'compensate', definition.start.compensate, previous);
      return;
    }
    s.stepIndex = Math.max(from, -1);
    end('compensated', ENGINE_EVENTS.workflowCompensated);
  };

  /** Forward step `index` failed for good: compensate what completed, or fail where it is when there is nothing to compensate. */
  const failForGood = (index: number, reason: string, eventId?: string) => {
    const step = definition.steps[index]!;
    s.failure = eventId === undefined ? { step: step.name, reason } : { step: step.name, reason, eventId };
    dropWait();
    const anything = definition.steps.slice(0, index).some((p) => p.compensate && Object.hasOwn(s.results, p.name)) || definition.start.compensate !== undefined;
    if (!anything) {
      s.stepIndex = index;
      end('failed', ENGINE_EVENTS.workflowFailed);
      return;
    }
    compensateFrom(index - 1);
  };

  // Late outcomes of calls that no longer decide anything (a timed-out call, a wait's onTimeout call after the wait
  // ended, anything of a finished instance): recorded, never acted on. A timed-out call stays timed_out.
  const recordLate = () => {
    for (const r of steps) {
      if (finished.has(r.id) || r.id === s.currentStep || r.deliveryId === null) continue;
      const o = settle(r);
      if (r.status === 'running') {
        if (o === 'dead') finish(r, 'failed', null, 'dead');
        else if (o) finish(r, 'completed', o.delivered, null);
      } else if (r.status === 'timed_out' && o && o !== 'dead' && signals.some((g) => g.kind === 'delivery' && g.stepId === r.id)) {
        finish(r, 'timed_out', o.delivered, 'timeout (delivered late)');
      }
    }
  };

  if (isTerminal(s.status)) {
    recordLate();
    return wrap();
  }

  if (!current || current.status !== 'running') {
    // A new instance, or one retryWorkflow made ready again at its failed step.
    if (s.phase === 'forward') {
      if (!current && s.stepIndex === 0 && s.failure === null) {
        transition(ENGINE_EVENTS.workflowStarted);
      }
      s.failure = null;
      startForward(s.stepIndex, current);
    } else {
      compensateFrom(s.stepIndex, current);
    }
    recordLate();
    return wrap();
  }

  if (current.phase === 'compensate') {
    const o = settle(current);
    if (o === 'dead') {
      finish(current, 'failed', null, 'dead');
      end('failed', ENGINE_EVENTS.workflowFailed);
    } else if (o) {
      finish(current, 'completed', o.delivered, null);
      s.lastEvent = current.id;
      causeDelivery = current.deliveryId;
      compensateFrom(current.stepIndex - 1);
    }
    recordLate();
    return wrap();
  }

  const step = definition.steps[s.stepIndex];
  if (!step) {
    out.problem = `version ${definition.version} of ${definition.name} has no step ${s.stepIndex}`;
    return wrap();
  }
  const due = s.wakeAt !== null && s.wakeAt.getTime() <= now.getTime();

  if (current.kind === 'call') {
    const o = settle(current);
    if (o === 'dead') {
      finish(current, 'failed', null, 'dead');
      failForGood(s.stepIndex, 'dead');
    } else if (o) {
      finish(current, 'completed', o.delivered, null);
      s.results[step.name] = o.delivered as JsonObject[string];
      s.lastEvent = current.id;
      causeDelivery = current.deliveryId;
      startForward(s.stepIndex + 1);
    } else if (due) {
      // Its delivery is left to finish: a late success is recorded (recordLate) and ignored.
      finish(current, 'timed_out', null, 'timeout');
      failForGood(s.stepIndex, 'timeout');
    }
  } else if (current.kind === 'wait' && step.kind === 'wait') {
    const onTimeout = steps.find((r) => r.kind === 'timeout' && r.status === 'running' && r.stepIndex === s.stepIndex);
    const timeoutOutcome = onTimeout ? settle(onTimeout) : null;
    if (settleWait(s.stepIndex, step, current.id)) {
      // Ended by its event.
    } else if (onTimeout && timeoutOutcome === 'dead') {
      // Nothing would end the wait now: fail it rather than keep the instance (and what it holds) forever.
      finish(onTimeout, 'failed', null, 'dead');
      finish(current, 'failed', null, 'onTimeout dead');
      failForGood(s.stepIndex, 'onTimeout dead');
    } else if (due && !s.timeoutFired) {
      if (step.onTimeout) {
        startCall(s.stepIndex, step.name, 'timeout', 'forward', step.onTimeout);
        s.timeoutFired = true;
        s.wakeAt = null;
      } else {
        finish(current, 'timed_out', null, 'timeout');
        failForGood(s.stepIndex, 'timeout');
      }
    }
  } else if (current.kind === 'sleep' && step.kind === 'sleep') {
    if (due) {
      const result = { until: (s.wakeAt ?? now).toISOString() };
      finish(current, 'completed', result, null);
      s.results[step.name] = result;
      startForward(s.stepIndex + 1);
    }
  } else {
    out.problem = `step ${s.stepIndex} of ${definition.name}@${definition.version} is a ${step.kind}, its running row a ${current.kind}`;
  }
  recordLate();
  return wrap();

  function wrap(): Advance {
    out.instance = { ...s, finished: out.instance.finished || isTerminal(s.status) };
    const ahead = held && !isTerminal(s.status) ? held.stepId : null;
    out.consumed = signals.filter((g) => g.stepId !== ahead).map((g) => g.id);
    return out;
  }
}

/** When a sleep ends: `seconds` from now, or the instant in the start payload's field (an unreadable one: now). */
function sleepUntil(step: Extract<WorkflowStep, { kind: 'sleep' }>, input: JsonObject, now: Date): Date {
  if (step.seconds !== undefined) return new Date(now.getTime() + step.seconds * 1000);
  const raw = step.untilField ? input[step.untilField] : undefined;
  const at = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(at) ? now : new Date(at);
}

function transitionPayload(s: InstanceState): JsonObject {
  return { workflow: s.workflow, version: s.version, instanceId: s.id, key: s.key, status: s.status, step: s.stepIndex, phase: s.phase, failure: s.failure };
}
