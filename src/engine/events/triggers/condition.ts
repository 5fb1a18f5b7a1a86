/**
 * Trigger conditions (Hasura #1241): the syntax (`TriggerCondition`, Hasura's
 * boolean-expression style over `new` / `old` row fields of a captured
 * change, or over a domain event's `payload`), its validation (one line
 * naming the problem and where: `unknown operator "_foo" at new.status`), and
 * its compilation into one SQL boolean expression over the event. Sync
 * (sync.ts) compiles every stored condition into the body of
 * `threefactor.trigger_condition(trigger_name, e)`, which routing calls; a
 * condition is never interpreted per event.
 *
 * Typing, decided here and documented in docs/events.md: `_eq` / `_neq` /
 * `_in` / `_nin` compare jsonb with jsonb (numbers numerically, `1` = `1.0`;
 * strings, booleans, arrays and objects exactly, no coercion between types);
 * `_gt` / `_gte` / `_lt` / `_lte` take a number (compared numerically with a
 * number field) or a string (compared with a string field as text, byte order
 * of collation "C"); a field of another type fails the comparison. Every
 * comparison is false on a null or missing field (as in SQL), `_is_null`
 * aside, and the logic is two-valued: `_not` turns false into true.
 *
 * Safety: every value and field name enters the SQL as a quoted literal
 * (values as JSON text cast to jsonb); nothing the condition says is ever
 * spliced in as SQL syntax, and the literals are read the same whatever the
 * session's standard_conforming_strings.
 */
import { isDeepStrictEqual } from 'node:util';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The comparisons on one field; several in one object must all hold. */
export interface FieldOperators {
  _eq?: JsonValue;
  _neq?: JsonValue;
  _gt?: number | string;
  _gte?: number | string;
  _lt?: number | string;
  _lte?: number | string;
  _in?: JsonValue[];
  _nin?: JsonValue[];
  _is_null?: boolean;
  /**
   * Table triggers, under `new` only: the field differs between the old and
   * the new row (`true`), does not (`false`), or changed from one value
   * and/or to another (`{ from: 'placed', to: 'paid' }`).
   */
  _changed?: boolean | { from?: JsonValue; to?: JsonValue };
}

/**
 * Fields of a row or payload, each with its FieldOperators or, for a nested
 * object, its own fields (`{ customer: { tier: { _eq: 'gold' } } }`),
 * combinable with `_and` / `_or` / `_not` at any level (`{ status: { _or:
 * [{ _eq: 'paid' }, { _eq: 'placed' }] } }`). An object holds operators or
 * fields, not both; the validator, not this type, says so.
 */
export interface FieldsCondition {
  _and?: FieldsCondition[];
  _or?: FieldsCondition[];
  _not?: FieldsCondition;
  [key: string]: FieldOperators | FieldsCondition | FieldsCondition[] | FieldOperators[keyof FieldOperators];
}

/**
 * A trigger's condition: `new` / `old` (table triggers: the row after and
 * before the change; null on INSERT resp. DELETE) or `payload` (event
 * triggers), combined with `_and` / `_or` / `_not`. Several keys in one
 * object must all hold; `{}` always holds.
 */
export interface TriggerCondition {
  _and?: TriggerCondition[];
  _or?: TriggerCondition[];
  _not?: TriggerCondition;
  new?: FieldsCondition;
  old?: FieldsCondition;
  payload?: FieldsCondition;
}

/** The trigger's match kind decides which scopes a condition may name. */
export type ConditionKind = 'event' | 'table';

export class ConditionError extends Error {
  override name = 'ConditionError';
}

const COMPARISONS = new Set(['_eq', '_neq', '_gt', '_gte', '_lt', '_lte', '_in', '_nin', '_is_null', '_changed']);
const ORDERINGS: Record<string, string> = { _gt: '>', _gte: '>=', _lt: '<', _lte: '<=' };

/** Why `condition` is not a valid condition for a trigger of `kind`, or null. */
export function conditionProblem(condition: unknown, kind: ConditionKind): string | null {
  try {
    compileCondition(condition, kind);
    return null;
  } catch (err) {
    if (err instanceof ConditionError) return err.message;
    throw err;
  }
}

/**
 * The condition as a SQL boolean expression over `e` (a threefactor.events
 * row), never null; throws a ConditionError on an invalid one.
 */
export function compileCondition(condition: unknown, kind: ConditionKind): string {
  return compileTop(condition, kind, '');
}

/**
 * The body of threefactor.trigger_condition(trigger_name text, e
 * threefactor.events) for these compiled conditions (in a stable order, so an
 * unchanged set gives the same text and sync writes nothing). A trigger with
 * no branch is let through: that only happens to a row not synced by this code.
 * `selector` is the function's first parameter (threefactor.workflow_condition
 * names it `match_key`, src/engine/workflows/sync.ts).
 */
export function conditionFunctionBody(conditions: ReadonlyArray<{ name: string; sql: string }>, selector = 'trigger_name'): string {
  if (conditions.length === 0) return '\nBEGIN\n  RETURN true;\nEND\n';
  const sorted = [...conditions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const branches = sorted.map((c) => `    WHEN ${textLiteral(c.name)} THEN ${c.sql}`).join('\n');
  return `\nBEGIN\n  RETURN CASE ${selector}\n${branches}\n    ELSE true\n  END;\nEND\n`;
}

function compileTop(value: unknown, kind: ConditionKind, at: string): string {
  const object = asObject(value, at, 'must be an object');
  const parts: string[] = [];
  for (const [key, inner] of Object.entries(object)) {
    const here = join(at, key);
    switch (key) {
      case '_and':
      case '_or':
        parts.push(combine(key, asList(inner, here).map((c, i) => compileTop(c, kind, `${here}[${i}]`))));
        break;
      case '_not':
        parts.push(`(NOT ${compileTop(inner, kind, here)})`);
        break;
      case 'new':
      case 'old':
        if (kind !== 'table') fail(`"${key}" is only for table triggers (an event trigger's condition is on "payload")`, at);
        parts.push(compileFields(inner, { scope: key, path: [] }, here));
        break;
      case 'payload':
        if (kind !== 'event') fail('"payload" is only for event triggers (a table trigger\'s condition is on "new" or "old")', at);
        parts.push(compileFields(inner, { scope: 'payload', path: [] }, here));
        break;
      default:
        if (key.startsWith('_')) fail(`unknown operator "${key}"`, at);
        fail(`unknown key "${key}" (expected ${kind === 'table' ? '"new", "old"' : '"payload"'}, "_and", "_or" or "_not")`, at);
    }
  }
  return combine('_and', parts);
}

interface FieldContext {
  scope: 'new' | 'old' | 'payload';
  /** The field's path inside the row or payload; empty at the scope itself. */
  path: string[];
}

function compileFields(value: unknown, ctx: FieldContext, at: string): string {
  const object = asObject(value, at, 'must be an object of fields or operators');
  const keys = Object.keys(object);
  const operator = keys.find((k) => COMPARISONS.has(k));
  const field = keys.find((k) => !k.startsWith('_'));
  if (operator !== undefined && field !== undefined) fail(`mixes operator "${operator}" with field "${field}"`, at);
  if (operator !== undefined && ctx.path.length === 0) fail(`operator "${operator}" needs a field`, at);
  const parts: string[] = [];
  for (const [key, inner] of Object.entries(object)) {
    const here = join(at, key);
    if (key === '_and' || key === '_or') {
      parts.push(combine(key, asList(inner, here).map((c, i) => compileFields(c, ctx, `${here}[${i}]`))));
    } else if (key === '_not') {
      parts.push(`(NOT ${compileFields(inner, ctx, here)})`);
    } else if (COMPARISONS.has(key)) {
      parts.push(compileComparison(key, inner, ctx, at));
    } else if (key.startsWith('_')) {
      fail(`unknown operator "${key}"`, at);
    } else {
      checkText(key, at, 'field name');
      parts.push(compileFields(inner, { scope: ctx.scope, path: [...ctx.path, key] }, here));
    }
  }
  return combine('_and', parts);
}

function compileComparison(op: string, value: unknown, ctx: FieldContext, at: string): string {
  const field = fieldSql(ctx.scope, ctx.path);
  const where = join(at, op);
  switch (op) {
    case '_eq':
      return `coalesce(${field} = ${jsonLiteral(value, where)}, false)`;
    case '_neq':
      return `coalesce(${field} <> ${jsonLiteral(value, where)} AND ${field} <> 'null'::jsonb, false)`;
    case '_in':
    case '_nin': {
      const items = asList(value, where).map((v, i) => jsonLiteral(v, `${where}[${i}]`));
      if (op === '_in') return items.length ? `coalesce(${field} = ANY (ARRAY[${items.join(', ')}]), false)` : 'false';
      const notNull = `${field} <> 'null'::jsonb`;
      return items.length ? `coalesce(${field} <> ALL (ARRAY[${items.join(', ')}]) AND ${notNull}, false)` : `coalesce(${notNull}, false)`;
    }
    case '_is_null':
      if (typeof value !== 'boolean') fail('_is_null must be true or false', at);
      return value ? `coalesce(${field} = 'null'::jsonb, true)` : `coalesce(${field} <> 'null'::jsonb, false)`;
    case '_changed':
      return compileChanged(value, ctx, at);
    default: {
      const sqlOp = ORDERINGS[op]!;
      if (typeof value === 'number') {
        checkNumber(value, where);
        return `coalesce(jsonb_typeof(${field}) = 'number' AND ${field} ${sqlOp} ${jsonLiteral(value, where)}, false)`;
      }
      if (typeof value === 'string') {
        checkText(value, where, 'value');
        return `coalesce(jsonb_typeof(${field}) = 'string' AND (${field} #>> '{}') COLLATE "C" ${sqlOp} ${textLiteral(value)}, false)`;
      }
      return fail(`${op} needs a number or a string`, at);
    }
  }
}

/** Old and new of the same field; a JSON null and a missing field are the same (absent), so an INSERT of a null changes nothing. */
function compileChanged(value: unknown, ctx: FieldContext, at: string): string {
  if (ctx.scope !== 'new') fail('_changed is only valid under "new" (it compares old with new)', at);
  const before = `nullif(${fieldSql('old', ctx.path)}, 'null'::jsonb)`;
  const after = `nullif(${fieldSql('new', ctx.path)}, 'null'::jsonb)`;
  if (typeof value === 'boolean') return value ? `(${before} IS DISTINCT FROM ${after})` : `(${before} IS NOT DISTINCT FROM ${after})`;
  const where = join(at, '_changed');
  const spec = asObject(value, where, '_changed must be true, false or { from, to }');
  for (const key of Object.keys(spec)) if (key !== 'from' && key !== 'to') fail(`unknown key "${key}" (expected "from" and/or "to")`, where);
  if (!('from' in spec) && !('to' in spec)) fail('_changed needs "from" and/or "to"', at);
  if ('from' in spec && 'to' in spec && isDeepStrictEqual(spec.from, spec.to)) fail('_changed has the same "from" and "to": that is no change', at);
  const parts = [`(${before} IS DISTINCT FROM ${after})`];
  if ('from' in spec) parts.push(`coalesce(${before} = ${jsonLiteral(spec.from, join(where, 'from'))}, false)`);
  if ('to' in spec) parts.push(`coalesce(${after} = ${jsonLiteral(spec.to, join(where, 'to'))}, false)`);
  return combine('_and', parts);
}

/** The field as jsonb, SQL NULL when absent: `(e.payload -> 'data' -> 'new' -> 'status')`. */
function fieldSql(scope: FieldContext['scope'], path: readonly string[]): string {
  const root = scope === 'payload' ? [] : ['data', scope];
  return `(e.payload${[...root, ...path].map((k) => ` -> ${textLiteral(k)}`).join('')})`;
}

function combine(op: '_and' | '_or', parts: readonly string[]): string {
  if (parts.length === 0) return op === '_and' ? 'true' : 'false';
  if (parts.length === 1) return parts[0]!;
  return `(${parts.join(op === '_and' ? ' AND ' : ' OR ')})`;
}

/**
 * A SQL string literal of `text`. With a backslash it is an E'' literal with
 * the backslashes doubled, as quote_literal does: then it reads the same
 * whether standard_conforming_strings is on or off.
 */
function textLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

function jsonLiteral(value: unknown, at: string): string {
  if (value === null || value === undefined) fail('a value may not be null (use _is_null)', at);
  checkJson(value, at);
  return `${textLiteral(JSON.stringify(value))}::jsonb`;
}

/** Only what jsonb can hold: PostgreSQL refuses a NUL character or a lone surrogate, and would fail the write being routed. */
function checkJson(value: unknown, at: string): void {
  if (typeof value === 'string') return checkText(value, at, 'value');
  if (typeof value === 'number') return checkNumber(value, at);
  if (typeof value === 'boolean' || value === null) return;
  if (Array.isArray(value)) return value.forEach((v, i) => checkJson(v, `${at}[${i}]`));
  const object = asObject(value, at, 'must be a JSON value');
  for (const [k, v] of Object.entries(object)) {
    checkText(k, at, 'key');
    checkJson(v, join(at, k));
  }
}

const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(text: string, at: string, what: string): void {
  if (what === 'field name' && text === '') fail('a field name may not be empty', at);
  if (UNSAFE_TEXT.test(text)) fail(`a ${what} may not hold a NUL character or a lone surrogate`, at);
}

function checkNumber(value: number, at: string): void {
  if (!Number.isFinite(value)) fail('a number must be finite', at);
}

function asObject(value: unknown, at: string, problem: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(problem, at);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) fail(problem, at);
  return value as Record<string, unknown>;
}

function asList(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) fail('must be a list', at);
  return value as unknown[];
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

function fail(problem: string, at: string): never {
  throw new ConditionError(at ? `${problem} at ${at}` : problem);
}
