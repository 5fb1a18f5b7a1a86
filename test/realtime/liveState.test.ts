/**
 * The live-state buffer on its own: newest value per key, keys in the order
 * they first became pending (a replaced key keeps its turn), a bound on
 * distinct keys, and the slot-then-Map storage behaving as one queue.
 */
import { describe, expect, it } from 'vitest';
import { LiveState } from '../../src/engine/realtime/liveState.js';

async function drain(state: LiveState<string>, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const next = await state.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('LiveState', () => {
  it('keeps the newest value per key, in the order keys became pending', async () => {
    const state = new LiveState<string>(() => {}, 10, () => {});
    state.offer('a', 'a1');
    state.offer('b', 'b1');
    state.offer('a', 'a2');
    state.offer('c', 'c1');
    state.offer('b', 'b2');
    expect(state.buffered).toBe(3);
    expect(await drain(state, 3)).toEqual(['a2', 'b2', 'c1']);
    expect(state.buffered).toBe(0);
  });

  it('queues a new key behind older ones even after the oldest went out', async () => {
    const state = new LiveState<string>(() => {}, 10, () => {});
    state.offer('a', 'a1');
    state.offer('b', 'b1');
    expect(await drain(state, 1)).toEqual(['a1']);
    // The slot is free, but b is still older than c.
    state.offer('c', 'c1');
    state.offer('a', 'a2');
    expect(await drain(state, 3)).toEqual(['b1', 'c1', 'a2']);
  });

  it('hands a waiting consumer the value at once', async () => {
    const state = new LiveState<string>(() => {}, 1, () => {});
    const pending = state.next();
    state.offer('a', 'a1');
    expect(await pending).toEqual({ value: 'a1', done: false });
    expect(state.buffered).toBe(0);
  });

  it('calls onOverflow past the bound on distinct keys, never for a replaced one', () => {
    let overflows = 0;
    const state = new LiveState<string>(() => {}, 2, () => overflows++);
    state.offer('a', 'a1');
    state.offer('b', 'b1');
    state.offer('a', 'a2');
    expect(overflows).toBe(0);
    state.offer('c', 'c1');
    expect(overflows).toBe(1);
    expect(state.buffered).toBe(2);
  });

  it('drops what is pending on return and runs onClose once', async () => {
    let closed = 0;
    const state = new LiveState<string>(() => closed++, 10, () => {});
    state.offer('a', 'a1');
    state.offer('b', 'b1');
    await state.return();
    await state.return();
    expect(closed).toBe(1);
    expect(state.buffered).toBe(0);
    expect(await state.next()).toEqual({ value: undefined, done: true });
    state.offer('c', 'c1');
    expect(state.buffered).toBe(0);
  });
});
