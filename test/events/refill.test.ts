/**
 * The refill rule's fair shares (src/engine/dispatcher/refill.ts), as plain
 * arithmetic: what each trigger may claim given what runs. The behaviour it
 * buys (a hung trigger never delays another) is tested end to end in
 * isolation.test.ts; this pins the numbers the docs state.
 */
import { describe, expect, it } from 'vitest';
import { fairRefill } from '../../src/engine/dispatcher/refill.js';

const rule = fairRefill(50, 50);
const running = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('the fair refill rule (concurrency 50, batches of 50)', () => {
  it('lets a lone trigger use its 50 slots, refilling from half a batch', () => {
    expect(rule.plan(['a'], running({}))).toEqual({ total: 50, triggers: [{ trigger: 'a', limit: 50 }] });
    expect(rule.plan(['a'], running({ a: 26 }))).toBeNull();
    expect(rule.plan(['a'], running({ a: 25 }))).toEqual({ total: 25, triggers: [{ trigger: 'a', limit: 25 }] });
  });

  it('claims for one busy trigger among several exactly as if it were alone', () => {
    expect(rule.plan(['a', 'b', 'c'], running({}))).toEqual({
      total: 50,
      triggers: ['a', 'b', 'c'].map((trigger) => ({ trigger, limit: 50 })),
    });
    // a refills at the same point as alone (25 free of its 50); b, idle, may take its share (⌊63/2⌋ = 31) meanwhile.
    expect(rule.plan(['a', 'b'], running({ a: 26 }))).toEqual({ total: 37, triggers: [{ trigger: 'b', limit: 31 }] });
    expect(rule.plan(['a', 'b'], running({ a: 25 }))).toEqual({ total: 38, triggers: [{ trigger: 'a', limit: 25 }, { trigger: 'b', limit: 31 }] });
  });

  it('keeps ⌈50/4⌉ = 13 slots on top of the 50 for the others when one trigger holds its 50', () => {
    // a's requests hang: it may not take the reserve, and b gets all of it at once.
    expect(rule.plan(['a', 'b'], running({ a: 50 }))).toEqual({ total: 13, triggers: [{ trigger: 'b', limit: 13 }] });
    // b, with attempts in flight, refills from what is left once it may claim half a batch, or once its own are done.
    expect(rule.plan(['a', 'b'], running({ a: 50, b: 5 }))).toBeNull();
    expect(rule.plan(['a', 'b'], running({ a: 50, b: 0 }))).toEqual({ total: 13, triggers: [{ trigger: 'b', limit: 13 }] });
  });

  it('lets a trigger reach its share (63/2 = 31) whenever slots are free, and beyond it only while the reserve stays free', () => {
    // 8 free: a is beyond its share and may not dip into the reserve; b is within its share.
    expect(rule.plan(['a', 'b'], running({ a: 45, b: 10 }))).toBeNull(); // b may claim 8 < 25 with 10 in flight
    expect(rule.plan(['a', 'b'], running({ a: 45, b: 0 }))).toEqual({ total: 18, triggers: [{ trigger: 'b', limit: 18 }] });
  });

  it('gives every one of many triggers at least one slot', () => {
    const many = Array.from({ length: 60 }, (_, i) => `t${i}`);
    const plan = rule.plan(many, running({ t0: 50 }))!;
    expect(plan.total).toBe(13);
    expect(plan.triggers.find((t) => t.trigger === 't0')).toBeUndefined();
    expect(plan.triggers).toHaveLength(59);
    expect(plan.triggers.every((t) => t.limit >= 1)).toBe(true);
  });
});
