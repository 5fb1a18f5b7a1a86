/**
 * The advance rules (src/engine/workflows/advance.ts), as a pure function:
 * each step kind's outcomes, compensation order (the start's last), the
 * fail-in-place rule when nothing is to compensate, onTimeout once, late
 * outcomes recorded but ignored, and a retry from the failed step.
 */
import { describe, expect, it } from 'vitest';
import { advance, resultOf, type InstanceState, type SignalState, type StepState } from '../../src/engine/workflows/advance.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { TRIGGER_NAME } from '../../src/engine/events/triggers/triggerDefinition.js';
import { workflowTriggerName } from '../../src/engine/workflows/triggers.js';
import { validateWorkflow } from '../../src/engine/workflows/validate.js';

const hook = { target: { kind: 'inProcess' as const, handler: 'x' } };
const def: WorkflowDefinition = {
  name: 'order',
  version: 1,
  start: { types: ['order.paid'], compensate: 'refund' },
  steps: [
    { name: 'reserve', kind: 'call', handler: 'reserve', compensate: 'release', timeoutSec: 5 },
    { name: 'approval', kind: 'wait', for: { types: ['order.approved'] }, failOn: { types: ['order.declined'] }, timeoutSec: 10, onTimeout: 'decline' },
    { name: 'cool', kind: 'sleep', seconds: 30 },
    { name: 'ship', kind: 'call', handler: 'ship' },
  ],
  handlers: { reserve: hook, release: hook, refund: hook, decline: hook, ship: hook },
};

const T0 = new Date('2026-12-02T12:00:00Z');
const at = (sec: number) => new Date(T0.getTime() + sec * 1000);
let n = 0;
const ids = () => `id-${++n}`;

function instance(over: Partial<InstanceState> = {}): InstanceState {
  return {
    id: 'i1', workflow: 'order', version: 1, key: 'o1', status: 'running', stepIndex: 0, phase: 'forward', startedByEvent: 'e0',
    input: { orderId: 'o1' }, results: {}, failure: null, currentStep: null, lastEvent: 'e0', timeoutFired: false, wakeAt: null, ...over,
  };
}
function row(over: Partial<StepState> & Pick<StepState, 'id' | 'kind' | 'stepIndex' | 'name'>): StepState {
  return { phase: 'forward', status: 'running', attempt: 1, deliveryId: `d-${over.id}`, delivery: 'pending', responseBody: null, ...over };
}

describe('advance', () => {
  it('validates the definition used here', () => {
    expect(() => validateWorkflow(def)).not.toThrow();
  });

  it('starts step 0 of a new instance as a call with its timer, and says started', () => {
    const a = advance(def, instance(), [], [], T0, ids);
    expect(a.starts).toHaveLength(1);
    expect(a.starts[0]).toMatchObject({ kind: 'call', name: 'reserve', attempt: 1, call: { trigger: 'workflow.order.v1.reserve', causeEvent: 'e0' } });
    expect(a.starts[0]!.call!.payload).toMatchObject({ instanceId: 'i1', stepId: a.starts[0]!.id, step: 'reserve', phase: 'forward', input: { orderId: 'o1' } });
    expect(a.instance).toMatchObject({ status: 'running', currentStep: a.starts[0]!.id, wakeAt: at(5) });
    expect(a.events.map((e) => e.type)).toEqual(['threefactor.workflow.started']);
  });

  it('a delivered call records its result and enters the wait (a waits row keyed by the instance key)', () => {
    const r = row({ id: 's1', kind: 'call', stepIndex: 0, name: 'reserve', delivery: 'delivered', responseBody: '{"ok":true,"outcome":"step-done","result":{"slot":7}}' });
    const a = advance(def, instance({ currentStep: 's1', wakeAt: at(5) }), [r], [], at(1), ids);
    expect(a.finishes).toEqual([{ id: 's1', status: 'completed', result: { slot: 7 }, error: null }]);
    expect(a.instance).toMatchObject({ status: 'waiting', stepIndex: 1, results: { reserve: { slot: 7 } }, wakeAt: at(11), lastEvent: 's1' });
    expect(a.wait).toMatchObject({ key: 'o1', stepIndex: 1, forTypes: ['order.approved'], failTypes: ['order.declined'], stepId: a.instance.currentStep });
    expect(a.events.map((e) => [e.type, e.payload.status, e.causeEvent])).toEqual([['threefactor.workflow.waiting', 'waiting', 's1']]);
  });

  it('a pending call before its timeout changes nothing; past it, it times out and compensation starts (reverse, the start last)', () => {
    const r = row({ id: 's1', kind: 'call', stepIndex: 0, name: 'reserve' });
    const idle = advance(def, instance({ currentStep: 's1', wakeAt: at(5) }), [r], [], at(1), ids);
    expect(idle.starts).toEqual([]);
    expect(idle.finishes).toEqual([]);
    const late = advance(def, instance({ currentStep: 's1', wakeAt: at(5) }), [r], [], at(6), ids);
    expect(late.finishes[0]).toMatchObject({ id: 's1', status: 'timed_out' });
    // reserve did not complete: nothing of it to release; the start's refund runs.
    expect(late.starts).toHaveLength(1);
    expect(late.starts[0]).toMatchObject({ kind: 'compensate', name: '$start', stepIndex: -1, phase: 'compensate', call: { trigger: 'workflow.order.v1.refund' } });
    expect(late.instance).toMatchObject({ status: 'compensating', phase: 'compensate', failure: { step: 'reserve', reason: 'timeout' } });
  });

  it('a failOn signal fails the wait for good: release (step 0) first, then the refund, then compensated', () => {
    const w = row({ id: 'w1', kind: 'wait', stepIndex: 1, name: 'approval', deliveryId: null, delivery: null });
    const sig: SignalState = { id: 1, kind: 'failOn', stepId: 'w1', eventId: 'ev-decl', eventType: 'order.declined' };
    const base = instance({ status: 'waiting', stepIndex: 1, currentStep: 'w1', results: { reserve: { slot: 7 } }, wakeAt: at(11) });
    const a = advance(def, base, [w], [sig], at(2), ids);
    expect(a.wait).toBeNull();
    expect(a.instance.failure).toEqual({ step: 'approval', reason: 'order.declined', eventId: 'ev-decl' });
    expect(a.starts[0]).toMatchObject({ name: 'reserve', kind: 'compensate', call: { trigger: 'workflow.order.v1.release', causeEvent: 'ev-decl' } });
    const c1 = row({ id: a.starts[0]!.id, kind: 'compensate', phase: 'compensate', stepIndex: 0, name: 'reserve', delivery: 'delivered', responseBody: '' });
    const b = advance(def, { ...a.instance }, [c1], [], at(3), ids);
    expect(b.starts[0]).toMatchObject({ name: '$start', stepIndex: -1 });
    const c2 = row({ id: b.starts[0]!.id, kind: 'compensate', phase: 'compensate', stepIndex: -1, name: '$start', delivery: 'delivered', responseBody: '' });
    const c = advance(def, { ...b.instance }, [c2], [], at(4), ids);
    expect(c.instance).toMatchObject({ status: 'compensated', finished: true, currentStep: null });
    expect(c.events.map((e) => e.type)).toEqual(['threefactor.workflow.compensated']);
  });

  it('a signal of an earlier wait is ignored; a "for" one completes the wait and the sleep starts', () => {
    const w = row({ id: 'w2', kind: 'wait', stepIndex: 1, name: 'approval', deliveryId: null, delivery: null });
    const stale: SignalState = { id: 1, kind: 'failOn', stepId: 'w-old', eventId: 'x', eventType: 'order.declined' };
    const ok: SignalState = { id: 2, kind: 'for', stepId: 'w2', eventId: 'ev-ok', eventType: 'order.approved' };
    const a = advance(def, instance({ status: 'waiting', stepIndex: 1, currentStep: 'w2', wakeAt: at(11) }), [w], [stale, ok], at(2), ids);
    expect(a.finishes[0]).toMatchObject({ id: 'w2', status: 'completed', result: { eventId: 'ev-ok', type: 'order.approved' } });
    expect(a.instance).toMatchObject({ status: 'sleeping', stepIndex: 2, wakeAt: at(32) });
    // Into the sleep: its transition event, for live subscribers.
    expect(a.events.map((e) => [e.type, e.payload.status])).toEqual([['threefactor.workflow.sleeping', 'sleeping']]);
  });

  it('a wait past its timeout with onTimeout calls it once and keeps waiting with no timer', () => {
    const w = row({ id: 'w1', kind: 'wait', stepIndex: 1, name: 'approval', deliveryId: null, delivery: null });
    const a = advance(def, instance({ status: 'waiting', stepIndex: 1, currentStep: 'w1', wakeAt: at(11) }), [w], [], at(12), ids);
    expect(a.starts).toHaveLength(1);
    expect(a.starts[0]).toMatchObject({ kind: 'timeout', name: 'approval', call: { trigger: 'workflow.order.v1.decline' } });
    expect(a.instance).toMatchObject({ status: 'waiting', timeoutFired: true, wakeAt: null, currentStep: 'w1' });
    const again = advance(def, { ...a.instance }, [w], [], at(20), ids);
    expect(again.starts).toEqual([]);
  });

  it('without onTimeout a wait past its timeout fails for good; with nothing to compensate it fails in place', () => {
    const bare: WorkflowDefinition = { name: 'w', version: 1, start: { types: ['a'] }, steps: [{ name: 'hold', kind: 'wait', for: { types: ['b'] }, timeoutSec: 1 }], handlers: {} };
    const w = row({ id: 'w1', kind: 'wait', stepIndex: 0, name: 'hold', deliveryId: null, delivery: null });
    const a = advance(bare, instance({ workflow: 'w', status: 'waiting', currentStep: 'w1', wakeAt: at(1) }), [w], [], at(2), ids);
    expect(a.instance).toMatchObject({ status: 'failed', phase: 'forward', stepIndex: 0, failure: { step: 'hold', reason: 'timeout' }, finished: true });
    expect(a.wait).toBeNull();
    // retryWorkflow made it ready again at its failed step: a new wait row, attempt 2.
    const failedRow = { ...w, status: 'timed_out' as const };
    const r = advance(bare, { ...a.instance, status: 'running', currentStep: 'w1' }, [failedRow], [], at(3), ids);
    expect(r.starts[0]).toMatchObject({ kind: 'wait', name: 'hold', attempt: 2 });
    expect(r.instance).toMatchObject({ status: 'waiting', failure: null });
  });

  it('a dead compensation fails the instance at that step; a late answer of a timed-out call is recorded, not acted on', () => {
    const c = row({ id: 'c1', kind: 'compensate', phase: 'compensate', stepIndex: -1, name: '$start', delivery: 'dead' });
    const late = row({ id: 's1', kind: 'call', stepIndex: 0, name: 'reserve', status: 'timed_out', delivery: 'delivered', responseBody: '{"ok":true}' });
    const sig: SignalState = { id: 5, kind: 'delivery', stepId: 's1', eventId: 's1', eventType: null };
    const a = advance(def, instance({ status: 'compensating', phase: 'compensate', stepIndex: -1, currentStep: 'c1', failure: { step: 'reserve', reason: 'timeout' } }), [c, late], [sig], at(9), ids);
    expect(a.instance).toMatchObject({ status: 'failed', phase: 'compensate', stepIndex: -1, finished: true });
    expect(a.finishes).toEqual([
      { id: 'c1', status: 'failed', result: null, error: 'dead' },
      { id: 's1', status: 'timed_out', result: { ok: true }, error: 'timeout (delivered late)' },
    ]);
  });

  it('a sleep already due is passed at once; the last step done completes the instance', () => {
    const quick: WorkflowDefinition = { name: 'q', version: 1, start: { types: ['a'] }, steps: [{ name: 'nap', kind: 'sleep', untilField: 'at' }], handlers: {} };
    const a = advance(quick, instance({ workflow: 'q', input: { at: at(-5).toISOString() } }), [], [], T0, ids);
    expect(a.instance).toMatchObject({ status: 'completed', finished: true, results: { nap: { until: at(-5).toISOString() } } });
    expect(a.finishes).toHaveLength(1);
  });

  it('registers the next wait ahead of a call; a signal for it is kept until the wait begins, then ends it at once', () => {
    const start = advance(def, instance(), [], [], T0, ids);
    // Step 0 is a call: wait 1 is registered ahead with its own id (not as the wait the instance is in).
    expect(start.wait).toBeUndefined();
    expect(start.ahead).toMatchObject({ stepIndex: 1, forTypes: ['order.approved'] });
    const ahead = { stepIndex: 1, stepId: start.ahead!.stepId };
    const r = row({ id: start.instance.currentStep!, kind: 'call', stepIndex: 0, name: 'reserve' });
    const early: SignalState = { id: 9, kind: 'for', stepId: ahead.stepId, eventId: 'ev-early', eventType: 'order.approved' };
    const idle = advance(def, { ...start.instance }, [r], [early], at(1), ids, { current: null, ahead });
    expect(idle.consumed).toEqual([]);
    expect([idle.wait, idle.ahead]).toEqual([undefined, undefined]);
    const done = advance(def, { ...start.instance }, [{ ...r, delivery: 'delivered', responseBody: '{}' }], [early], at(2), ids, { current: null, ahead });
    expect(done.starts.map((x) => [x.kind, x.id])).toEqual([
      ['wait', ahead.stepId],
      ['sleep', expect.any(String)],
    ]);
    expect(done.finishes.map((f) => [f.id, f.status])).toEqual([
      [r.id, 'completed'],
      [ahead.stepId, 'completed'],
    ]);
    expect(done.instance).toMatchObject({ status: 'sleeping', stepIndex: 2, results: { approval: { eventId: 'ev-early', type: 'order.approved' } } });
    expect(done.wait).toBeNull();
    expect(done.ahead).toBeNull();
    expect(done.consumed).toEqual([9]);
  });

  it('reads a step result from a kit reply, plain JSON or text', () => {
    expect(resultOf('{"ok":true,"outcome":"x","result":[1]}')).toEqual([1]);
    expect(resultOf('{"a":1}')).toEqual({ a: 1 });
    expect(resultOf('plain')).toBe('plain');
    expect(resultOf('')).toBeNull();
  });

  it('refuses invalid definitions with one line', () => {
    expect(() => validateWorkflow({ ...def, steps: [{ name: 'x', kind: 'call', handler: 'nope' }] })).toThrow('workflow "order": step 0 ("x") names handler "nope", which is not in handlers');
    expect(() => validateWorkflow({ ...def, start: { types: ['threefactor.workflow.step'] } })).toThrow(/engine's own events/);
    expect(() => validateWorkflow({ ...def, name: 'a.b' })).toThrow(/name must be/);
    // The version is part of its handlers' trigger names, which stay within 100 characters.
    expect(() => validateWorkflow({ ...def, version: 10_000 })).toThrow('version must be a whole number from 1 to 9999');
    const longest = workflowTriggerName('n'.repeat(40), 9999, 'k'.repeat(40));
    expect(longest.length).toBeLessThanOrEqual(100);
    expect(TRIGGER_NAME.test(longest)).toBe(true);
  });
});
