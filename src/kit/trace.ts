/**
 * W3C Trace Context (level 1), part of the wire contract: continue the
 * caller's trace when it sends a valid `traceparent`, otherwise start one.
 * The API stores it on every event an operation writes, the dispatcher
 * continues it on each delivery, and a function continues it on its
 * write-back. `tracestate` travels only with a valid `traceparent`, bounded
 * as the spec says (boundTracestate), so no caller can make every event and
 * delivery carry kilobytes of it. Web Crypto only, so the kit runs on any
 * fetch-speaking platform. With an OpenTelemetry SDK registered, the spans
 * of ./telemetry.ts take the place of the new span id made here (their own
 * ids travel instead), from the same validation (parseTraceparent).
 */

/** version 00: exactly these four fields, lowercase hex. */
const TRACEPARENT_V00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** A later version: the same first four fields, then nothing or "-" and whatever that version adds. */
const TRACEPARENT_LATER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** List members kept at most, and characters the list is cut to (W3C: propagate at least 512). */
export const TRACESTATE_MAX_MEMBERS = 32;
export const TRACESTATE_MAX_LENGTH = 512;
/** Members longer than this go first when the list must be cut. */
const TRACESTATE_LARGE_MEMBER = 128;

const KEY_CHARS = '[a-z0-9_\\-*/]';
const TRACESTATE_KEY = new RegExp(`^(?:[a-z]${KEY_CHARS}{0,255}|[a-z0-9]${KEY_CHARS}{0,240}@[a-z]${KEY_CHARS}{0,13})$`);
/** 1 to 256 printable ASCII characters except "," and "=", not ending in a space. */
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

export function continueTrace(traceparent: string | null | undefined, tracestate?: string | null): TraceContext {
  const parent = parseTraceparent(traceparent);
  // A new span id: this span is the child of the caller's.
  const ctx: TraceContext = { traceparent: `00-${parent?.traceId ?? randomHex(16)}-${randomHex(8)}-${parent?.flags ?? '01'}` };
  const state = parent && tracestate ? boundTracestate(tracestate) : undefined;
  if (state) ctx.tracestate = state;
  return ctx;
}

/** A caller's `traceparent` when valid (flags as version 00 carries them), else undefined: the one check every span and continuation starts from. */
export function parseTraceparent(header: string | null | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  const value = header?.trim() ?? '';
  let fields: { traceId: string; parentId: string; flags: string } | undefined;
  const v00 = TRACEPARENT_V00.exec(value);
  if (v00) {
    fields = { traceId: v00[1]!, parentId: v00[2]!, flags: v00[3]! };
  } else {
    const later = TRACEPARENT_LATER.exec(value);
    // 00 that failed the exact match is invalid, and so is ff; of a later version's flags only "sampled" is known.
    if (later && later[1] !== '00' && later[1] !== 'ff') {
      fields = { traceId: later[2]!, parentId: later[3]!, flags: (parseInt(later[4]!, 16) & 1) === 1 ? '01' : '00' };
    }
  }
  if (!fields || /^0+$/.test(fields.traceId) || /^0+$/.test(fields.parentId)) return undefined;
  return fields;
}

/**
 * `tracestate` as it may travel on: valid list members only (the first of a
 * repeated key), at most 32, cut to 512 characters by the spec's rule
 * (members over 128 characters go first, then from the end); undefined when
 * nothing is left.
 */
export function boundTracestate(header: string): string | undefined {
  const seen = new Set<string>();
  const members: string[] = [];
  for (const raw of header.split(',')) {
    const member = raw.trim();
    const eq = member.indexOf('=');
    const key = member.slice(0, eq);
    if (eq < 0 || !TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(eq + 1)) || seen.has(key)) continue;
    seen.add(key);
    members.push(member);
    if (members.length === TRACESTATE_MAX_MEMBERS) break;
  }
  let length = members.reduce((n, m) => n + m.length, 0) + Math.max(0, members.length - 1);
  const drop = (i: number) => {
    length -= members[i]!.length + (members.length > 1 ? 1 : 0);
    members.splice(i, 1);
  };
  for (let i = members.length - 1; i >= 0 && length > TRACESTATE_MAX_LENGTH; i--) {
    if (members[i]!.length > TRACESTATE_LARGE_MEMBER) drop(i);
  }
  while (length > TRACESTATE_MAX_LENGTH) drop(members.length - 1);
  return members.length ? members.join(',') : undefined;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
