/**
 * Hasura event triggers as threefactor reads them: what one trigger may say
 * and how it becomes a TriggerDefinition (shared by every file form; see
 * triggersFile.ts for the entry point), and the `create_event_trigger` form:
 * entries of type `create_event_trigger` / `pg_create_event_trigger` (and
 * their `delete_…` counterparts), alone, in an array, or inside
 * `{"type":"bulk","args":[…]}` (nested bulks too). Other metadata operations
 * in such a file (track_table …) are skipped.
 *
 * Semantics follow Hasura: table, insert/update/delete with columns ("*" or
 * a list; an UPDATE is delivered only if a listed column changed) and
 * payload (the columns the body carries), webhook (`{{ENV}}` templates kept
 * as written) or webhook_from_env, headers (value or value_from_env),
 * retry_conf {num_retries 0, interval_sec 10, timeout_sec 60 by default},
 * enable_manual. One deliberate difference: retries back off exponentially
 * from interval_sec (capped at an hour) instead of repeating at a fixed
 * interval.
 *
 * A trigger is read strictly: an unknown key is an error, so a misspelt or
 * newer Hasura field cannot be dropped silently. What threefactor cannot do
 * is split by what it would change: a field that changes what the handler
 * receives (request/response transforms) is an error; housekeeping it
 * handles otherwise (cleanup_config, retry_conf.tolerance_sec) becomes a
 * note and is ignored.
 *
 * Hasura's format has no place for threefactor's own trigger options, so a
 * trigger may carry one extra object, `threefactor` (permanent_statuses,
 * pause_on_gone, condition, concurrency, rate_per_second), read as strictly.
 * Without it a trigger keeps Hasura's rule: every non-2xx is retried
 * (permanentStatuses []) and 410 does not pause it (pauseOnGone false).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { conditionProblem, type TriggerCondition } from './condition.js';
import { TRIGGER_NAME, type OperationSpec, type TriggerDefinition } from './triggerDefinition.js';
import type { DeclaredTrigger } from './declared.js';

export type { DeclaredTrigger };

export const HASURA_RETRY_DEFAULTS = { numRetries: 0, intervalSec: 10, timeoutSec: 60 } as const;
const MAX_INTERVAL_SEC = 3600;

export class HasuraMetadataError extends Error {
  override name = 'HasuraMetadataError';
}

export interface LoadedTriggerFile {
  triggers: DeclaredTrigger[];
  /** What was read but is not applied, one line each, for the operator's log. */
  notes: string[];
}

const columns = z.union([z.literal('*'), z.array(z.string().min(1))], { error: 'must be "*" or a list of column names' });

/** Hasura's operation spec (insert / update / delete). */
export const operationSpec = z.object({ columns, payload: columns.nullish() }).strict().nullish();
type OperationInput = NonNullable<z.infer<typeof operationSpec>>;

export const tableName = z.union([
  z.string().min(1),
  z.object({ schema: z.string().min(1).default('public'), name: z.string().min(1) }).strict(),
]);

const header = z
  .object({ name: z.string().min(1), value: z.string().optional(), value_from_env: z.string().min(1).optional() })
  .strict()
  .refine((h) => (h.value === undefined) !== (h.value_from_env === undefined), 'needs exactly one of value or value_from_env');

/**
 * threefactor's options, in the metadata's snake_case. Only the types are
 * checked here: the ranges are TriggerDefinition's, checked at sync
 * (routing.ts) like those of a trigger declared in code; the condition is
 * checked by checkDelivery, so its problem names this file.
 */
const threefactorOptions = z
  .object({
    permanent_statuses: z.array(z.number()).optional(),
    pause_on_gone: z.boolean().optional(),
    condition: z.custom<TriggerCondition>().optional(),
    concurrency: z.number().optional(),
    rate_per_second: z.number().optional(),
  })
  .strict()
  .nullish();

/** The keys both forms share: where and how a trigger delivers. */
export const deliveryKeys = {
  name: z.string().regex(TRIGGER_NAME, 'must be letters, digits, "_", "-" or "." (at most 100)'),
  webhook: z.string().min(1).optional(),
  webhook_from_env: z.string().min(1).optional(),
  headers: z.array(header).nullish(),
  retry_conf: z
    .object({
      num_retries: z.number().int().min(0).optional(),
      interval_sec: z.number().int().min(0).optional(),
      timeout_sec: z.number().int().min(1).optional(),
      tolerance_sec: z.number().nullish(),
    })
    .strict()
    .nullish(),
  request_transform: z.unknown().optional(),
  response_transform: z.unknown().optional(),
  cleanup_config: z.unknown().optional(),
  // Hasura writes it only when true (false is its default for Postgres, and threefactor's behaviour).
  trigger_on_replication: z.boolean().optional(),
  threefactor: threefactorOptions,
};

const deliveryObject = z.object(deliveryKeys);
type DeliveryInput = z.infer<typeof deliveryObject>;

export function checkDelivery(a: DeliveryInput, ctx: z.RefinementCtx): void {
  if (!a.webhook === !a.webhook_from_env) ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'exactly one of webhook or webhook_from_env is required' });
  for (const key of ['request_transform', 'response_transform'] as const) {
    if (a[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is not supported by threefactor' });
  }
  if (a.trigger_on_replication) {
    ctx.addIssue({ code: 'custom', path: ['trigger_on_replication'], message: 'true is not supported by threefactor (capture triggers do not fire for writes applied by logical replication)' });
  }
  const condition = a.threefactor?.condition;
  if (condition != null) {
    // Hasura's triggers are all table triggers: new / old.
    const problem = conditionProblem(condition, 'table');
    if (problem) ctx.addIssue({ code: 'custom', path: [], message: `threefactor.condition: ${problem}` });
  }
}

/** One trigger, whichever form it came from. */
export interface TriggerInput {
  table: z.infer<typeof tableName>;
  insert?: OperationInput | null;
  update?: OperationInput | null;
  delete?: OperationInput | null;
  enableManual?: boolean;
  delivery: DeliveryInput;
}

/** The definition, and the notes for what it says that is not applied, as `event trigger "x" (origin): …` lines. */
export function declareTrigger(t: TriggerInput, origin: string): { trigger: DeclaredTrigger; notes: string[] } {
  const a = t.delivery;
  const table = typeof t.table === 'string' ? { schema: 'public', name: t.table } : t.table;
  const op = (o: OperationInput): OperationSpec => ({ columns: o.columns, ...(o.payload != null ? { payload: o.payload } : {}) });
  const retry = {
    numRetries: a.retry_conf?.num_retries ?? HASURA_RETRY_DEFAULTS.numRetries,
    intervalSec: a.retry_conf?.interval_sec ?? HASURA_RETRY_DEFAULTS.intervalSec,
    timeoutSec: a.retry_conf?.timeout_sec ?? HASURA_RETRY_DEFAULTS.timeoutSec,
  };
  const definition: TriggerDefinition = {
    name: a.name,
    match: {
      kind: 'table',
      schema: table.schema,
      table: table.name,
      ...(t.insert ? { insert: op(t.insert) } : {}),
      ...(t.update ? { update: op(t.update) } : {}),
      ...(t.delete ? { delete: op(t.delete) } : {}),
      ...(t.enableManual ? { enableManual: true } : {}),
    },
    target: a.webhook ? { kind: 'webhook', url: a.webhook } : { kind: 'webhookFromEnv', env: a.webhook_from_env! },
    retry: { ...retry, maxIntervalSec: Math.max(MAX_INTERVAL_SEC, retry.intervalSec) },
  };
  const options = a.threefactor;
  // Hasura's rule unless the metadata opts in: every non-2xx is retried, 410 included.
  definition.permanentStatuses = options?.permanent_statuses ?? [];
  definition.pauseOnGone = options?.pause_on_gone ?? false;
  if (options?.condition != null) definition.condition = options.condition;
  if (options?.concurrency !== undefined) definition.concurrency = options.concurrency;
  if (options?.rate_per_second !== undefined) definition.ratePerSecond = options.rate_per_second;
  if (a.headers?.length) {
    definition.headers = a.headers.map((h) => (h.value !== undefined ? { name: h.name, value: h.value } : { name: h.name, valueFromEnv: h.value_from_env! }));
  }
  const notes: string[] = [];
  const note = (what: string) => notes.push(`event trigger "${a.name}" (${origin}): ${what}`);
  if (a.cleanup_config != null) note('cleanup_config is not applied by threefactor (retention is RETENTION_*); ignored');
  if (a.retry_conf?.tolerance_sec != null) note('retry_conf.tolerance_sec is not applied by threefactor; ignored');
  return { trigger: { definition, origin }, notes };
}

/** The first problem, one line: `path message`, or `unknown key path.key`. */
export function issue(error: z.ZodError): string {
  const first = error.issues[0]!;
  if (first.code === 'unrecognized_keys') {
    const keys = first.keys.map((k) => formatPath([...first.path, k]));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  const path = first.path.length ? `${formatPath(first.path)} ` : '';
  return `${path}${first.message}`;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

// ---- the create_event_trigger form ----

const createArgs = z
  .object({
    ...deliveryKeys,
    table: tableName,
    source: z.string().optional(),
    insert: operationSpec,
    update: operationSpec,
    delete: operationSpec,
    enable_manual: z.boolean().optional(),
    replace: z.boolean().optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    checkDelivery(a, ctx);
    if (!a.insert && !a.update && !a.delete && !a.enable_manual) {
      ctx.addIssue({ code: 'custom', path: ['insert'], message: 'at least one of insert, update, delete or enable_manual is required' });
    }
  });

const deleteArgs = z.object({ name: z.string().min(1), source: z.string().optional() });

const entry = z.object({ type: z.string().min(1), args: z.unknown() });

const CREATE = new Set(['create_event_trigger', 'pg_create_event_trigger']);
const DELETE = new Set(['delete_event_trigger', 'pg_delete_event_trigger']);

/**
 * Parse `create_event_trigger` entries already read as JSON; `file` names the
 * file in errors and is every trigger's origin. Entries are not filtered by
 * their `source`.
 */
export function parseHasuraMetadataEntries(json: unknown, file = 'metadata'): LoadedTriggerFile {
  const triggers = new Map<string, { trigger: DeclaredTrigger; notes: string[] }>();
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`));
      return;
    }
    const parsed = entry.safeParse(value);
    if (!parsed.success) throw new HasuraMetadataError(`${file}: ${where}: expected an object {"type": …, "args": …}`);
    const { type, args } = parsed.data;
    if (type === 'bulk') {
      if (!Array.isArray(args)) throw new HasuraMetadataError(`${file}: ${where} (bulk): args must be an array`);
      visit(args, `${where}.args`);
      return;
    }
    if (DELETE.has(type)) {
      const del = deleteArgs.safeParse(args);
      if (!del.success) throw new HasuraMetadataError(`${file}: ${where} (${type}): ${issue(del.error)}`);
      triggers.delete(del.data.name);
      return;
    }
    if (!CREATE.has(type)) return;
    const name = typeof (args as { name?: unknown } | null)?.name === 'string' ? ` "${(args as { name: string }).name}"` : '';
    const create = createArgs.safeParse(args);
    if (!create.success) throw new HasuraMetadataError(`${file}: ${where} (${type}${name}): ${issue(create.error)}`);
    const a = create.data;
    if (triggers.has(a.name) && !a.replace) {
      throw new HasuraMetadataError(`${file}: ${where} (${type}${name}): a trigger of that name is already defined (set "replace": true)`);
    }
    triggers.set(a.name, declareTrigger({ table: a.table, insert: a.insert, update: a.update, delete: a.delete, enableManual: a.enable_manual, delivery: a }, file));
  };
  visit(json, '$');
  const all = [...triggers.values()];
  return { triggers: all.map((t) => t.trigger), notes: all.flatMap((t) => t.notes) };
}

export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new HasuraMetadataError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HasuraMetadataError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
