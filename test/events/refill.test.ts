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

describe('the fair refill rule (50 slots, batches of 50)', () => {
  it('lets a lone trigger use every slot, refilling from half a batch free', () => {
    expect(rule.plan(['a'], running({}))).toEqual({ total: 50, triggers: [{ trigger: 'a', limit: 50 }] });
    expect(rule.plan(['a'], running({ a: 26 }))).toBeNull();
    expect(rule.plan(['a'], running({ a: 25 }))).toEqual({ total: 25, triggers: [{ trigger: 'a', limit: 25 }] });
  });

  it('keeps a reserve of ⌈50/4⌉ = 13 slots from any one trigger once there are others', () => {
    // Alone at first, a may take up to 50 − 13 = 37 …
    expect(rule.plan(['a', 'b'], running({}))).toEqual({ total: 50, triggers: [{ trigger: 'a', limit: 37 }, { trigger: 'b', limit: 37 }] });
    // … and no more once it holds them, however long they hang; b still gets all 13 that are left.
    expect(rule.plan(['a', 'b'], running({ a: 37 }))).toEqual({ total: 13, triggers: [{ trigger: 'b', limit: 13 }] });
  });

  it('always lets a trigger reach its share (50/2 = 25), but beyond it only while the reserve stays free', () => {
    expect(rule.plan(['a', 'b'], running({ a: 30, b: 15 }))).toBeNull(); // 5 free: below the low-water mark (⌊13/2⌋ = 6)
    expect(rule.plan(['a', 'b'], running({ a: 30, b: 10 }))).toEqual({ total: 10, triggers: [{ trigger: 'b', limit: 10 }] });
    expect(rule.plan(['a', 'b'], running({ a: 20, b: 17 }))).toEqual({ total: 13, triggers: [{ trigger: 'a', limit: 5 }, { trigger: 'b', limit: 8 }] });
  });

  it('gives every one of many triggers at least one slot', () => {
    const many = Array.from({ length: 60 }, (_, i) => `t${i}`);
    const plan = rule.plan(many, running({ t0: 37 }))!;
    expect(plan.total).toBe(13);
    expect(plan.triggers.find((t) => t.trigger === 't0')).toBeUndefined();
    expect(plan.triggers).toHaveLength(59);
    expect(plan.triggers.every((t) => t.limit >= 1)).toBe(true);
  });
});
