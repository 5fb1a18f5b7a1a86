/**
 * W3C Trace Context (level 1) at the API's door: a `traceparent` is
 * continued only when valid (version 00's exact format, lowercase hex,
 * non-zero ids; a later version by its 00 prefix), otherwise a new trace
 * starts and `tracestate` is dropped; `tracestate` keeps at most 32 valid
 * list members and 512 characters, truncated by the spec's rules. What is
 * stored on the event is what the dispatcher forwards.
 */
import { describe, expect, it } from 'vitest';
import { boundTracestate, continueTrace } from '../../src/kit/trace.js';
import type { TestApi } from '../support/api.js';
import type { TestDatabase } from '../support/db.js';
import { eventsOf, ids, ok, Q, type Tokens } from '../support/orders.js';
import { useTestApi } from '../support/useTestApi.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

const traceIdOf = (traceparent: string) => traceparent.split('-')[1];

describe('traceparent', () => {
  it('continues a valid one: same trace, a new span, the flags kept', () => {
    const ctx = continueTrace(VALID, 'vendor=a');
    expect(ctx.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(ctx.traceparent).not.toContain(SPAN_ID);
    expect(ctx.tracestate).toBe('vendor=a');
    expect(continueTrace(`00-${TRACE_ID}-${SPAN_ID}-00`).traceparent).toMatch(/-00$/);
  });

  it('starts a new trace, and drops tracestate, for anything invalid', () => {
    const invalid = [
      VALID.toUpperCase(), // uppercase hex is not valid
      `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`, // zero trace id
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // zero parent id
      `ff-${TRACE_ID}-${SPAN_ID}-01`, // version ff is forbidden
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`, // version 00 has exactly four fields
      `00-${TRACE_ID}-${SPAN_ID}-1`,
      `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
      `0-${TRACE_ID}-${SPAN_ID}-01`,
      `00_${TRACE_ID}_${SPAN_ID}_01`,
      `zz-${TRACE_ID}-${SPAN_ID}-01`,
      '',
    ];
    for (const header of invalid) {
      const ctx = continueTrace(header, 'vendor=a');
      expect(traceIdOf(ctx.traceparent), header).not.toBe(TRACE_ID);
      expect(ctx.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(ctx.tracestate, header).toBeUndefined();
    }
  });

  it('reads a later version by the fields version 00 defines, and answers in version 00', () => {
    const ctx = continueTrace(`01-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`);
    expect(ctx.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    // …but only if the fields end where version 00's do.
    expect(traceIdOf(continueTrace(`01-${TRACE_ID}-${SPAN_ID}-01x`).traceparent)).not.toBe(TRACE_ID);
  });
});

describe('tracestate', () => {
  const member = (key: string, length: number) => `${key}=${'v'.repeat(length - key.length - 1)}`;

  it('keeps valid members, trimmed of optional whitespace and empty members', () => {
    expect(boundTracestate(' congo=t61rcWkgMzE ,\t rojo=00f067aa0ba902b7,, ')).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(boundTracestate('tenant1@vendor=x,a-b_c*d/e=1,9tenant@sys=v')).toBe('tenant1@vendor=x,a-b_c*d/e=1,9tenant@sys=v');
  });

  it('drops invalid members and repeated keys, keeping the first', () => {
    const header = [
      'ok=1',
      'Upper=1', // keys are lowercase
      '1abc=1', // a simple key starts with a letter
      'noequals',
      '=novalue',
      'empty=',
      'ctrl=a\tb', // only printable ASCII
      'comma=a=b', // "=" is not allowed in a value
      `${'k'.repeat(257)}=1`, // key longer than 256
      `long=${'v'.repeat(257)}`, // value longer than 256
      't@vendorvendorvend=1', // system id longer than 14
      'ok=2', // a repeated key
      'fine=a b',
    ].join(',');
    expect(boundTracestate(header)).toBe('ok=1,fine=a b');
  });

  it('keeps at most 32 list members, the first ones', () => {
    const header = Array.from({ length: 40 }, (_, i) => `k${i}=${i}`).join(',');
    expect(boundTracestate(header)).toBe(Array.from({ length: 32 }, (_, i) => `k${i}=${i}`).join(','));
  });

  it('truncates to 512 characters: members over 128 characters go first, then from the end', () => {
    const small = Array.from({ length: 4 }, (_, i) => member(`s${i}`, 100));
    const big = member('big', 200);
    // 4 × 100 + 200 + 4 commas = 604 > 512: dropping the big one is enough.
    expect(boundTracestate([small[0], big, ...small.slice(1)].join(','))).toBe(small.join(','));
    // 6 × 100 + 5 commas = 605: the last one goes.
    const six = Array.from({ length: 6 }, (_, i) => member(`m${i}`, 100));
    expect(boundTracestate(six.join(','))).toBe(six.slice(0, 5).join(','));
    // 512 exactly is kept whole.
    const exact = [member('a', 255), member('b', 256)].join(',');
    expect(exact).toHaveLength(512);
    expect(boundTracestate(exact)).toBe(exact);
  });

  it('is dropped when nothing valid is left', () => {
    expect(boundTracestate('Bad,=,,')).toBeUndefined();
    expect(continueTrace(VALID, 'Bad').tracestate).toBeUndefined();
  });
});

describe('at the API', () => {
  let api: TestApi;
  let db: TestDatabase;
  let tokens: Tokens;
  useTestApi({ seed: true }, (env) => ({ api, db, tokens } = env));

  const place = (headers: Record<string, string>) =>
    api.gql<{ placeOrder: { id: string } }>(
      Q.place,
      { input: { restaurantId: ids.napoli, deliveryAddress: '1 Trace Lane', items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
      tokens.alice,
      headers,
    );

  it('stores a bounded tracestate on the events it writes, never 8 KB of it', async () => {
    const huge = Array.from({ length: 64 }, (_, i) => `vendor${i}=${'x'.repeat(120)}`).join(',');
    expect(huge.length).toBeGreaterThan(8_000);
    const order = ok(await place({ traceparent: VALID, tracestate: huge })).placeOrder;
    const [event] = await eventsOf(db, order.id);
    const trace = event!.traceContext as { traceparent: string; tracestate?: string };
    expect(traceIdOf(trace.traceparent)).toBe(TRACE_ID);
    expect(trace.tracestate!.length).toBeLessThanOrEqual(512);
    expect(trace.tracestate).toBe(boundTracestate(huge));
    expect(trace.tracestate!.split(',')[0]).toBe(`vendor0=${'x'.repeat(120)}`);
  });

  it('starts a new trace for an uppercase traceparent, storing no tracestate', async () => {
    const order = ok(await place({ traceparent: VALID.toUpperCase(), tracestate: 'vendor=a' })).placeOrder;
    const [event] = await eventsOf(db, order.id);
    const trace = event!.traceContext as { traceparent: string; tracestate?: string };
    expect(traceIdOf(trace.traceparent)).not.toBe(TRACE_ID);
    expect(trace.tracestate).toBeUndefined();
  });
});
