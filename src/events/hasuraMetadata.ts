/**
 * Loads Hasura event triggers from a metadata file as is: entries of type
 * `create_event_trigger` / `pg_create_event_trigger` (and their `delete_…`
 * counterparts), alone, in an array, or inside `{"type":"bulk","args":[…]}`
 * (nested bulks too). Other metadata operations in the file (track_table …)
 * are skipped. A malformed entry is an error naming the entry.
 *
 * Semantics follow Hasura: table, insert/update/delete with columns ("*" or
 * a list; an UPDATE is delivered only if a listed column changed), webhook
 * or webhook_from_env, headers (value or value_from_env), retry_conf
 * {num_retries 0, interval_sec 10, timeout_sec 60 by default}, enable_manual.
 * One deliberate difference: retries back off exponentially from
 * interval_sec (capped at an hour) instead of repeating at a fixed interval.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { TriggerDefinition } from './triggerDefinition.js';

export const HASURA_RETRY_DEFAULTS = { numRetries: 0, intervalSec: 10, timeoutSec: 60 } as const;
const MAX_INTERVAL_SEC = 3600;

export class HasuraMetadataError extends Error {
  override name = 'HasuraMetadataError';
}

const columns = z.union([z.literal('*'), z.array(z.string().min(1))]);
const operation = z.object({ columns, payload: columns.optional() }).nullish();

const header = z.union([
  z.object({ name: z.string().min(1), value: z.string() }).strict(),
  z.object({ name: z.string().min(1), value_from_env: z.string().min(1) }).strict(),
]);

const createArgs = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, "_", "-" or "." (at most 100)'),
    table: z.union([z.string().min(1), z.object({ schema: z.string().min(1).default('public'), name: z.string().min(1) })]),
    source: z.string().optional(),
    webhook: z.string().min(1).optional(),
    webhook_from_env: z.string().min(1).optional(),
    insert: operation,
    update: operation,
    delete: operation,
    headers: z.array(header).nullish(),
    retry_conf: z
      .object({
        num_retries: z.number().int().min(0).optional(),
        interval_sec: z.number().int().min(0).optional(),
        timeout_sec: z.number().int().min(1).optional(),
        tolerance_sec: z.number().optional(),
      })
      .nullish(),
    enable_manual: z.boolean().optional(),
    replace: z.boolean().optional(),
    request_transform: z.unknown().optional(),
    response_transform: z.unknown().optional(),
    cleanup_config: z.unknown().optional(),
  })
  .superRefine((a, ctx) => {
    if (!a.webhook === !a.webhook_from_env) ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'exactly one of webhook or webhook_from_env is required' });
    if (!a.insert && !a.update && !a.delete && !a.enable_manual) {
      ctx.addIssue({ code: 'custom', path: ['insert'], message: 'at least one of insert, update, delete or enable_manual is required' });
    }
    for (const key of ['request_transform', 'response_transform'] as const) {
      if (a[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is not supported by threefactor' });
    }
  });

const deleteArgs = z.object({ name: z.string().min(1), source: z.string().optional() });

const entry = z.object({ type: z.string().min(1), args: z.unknown() });

const CREATE = new Set(['create_event_trigger', 'pg_create_event_trigger']);
const DELETE = new Set(['delete_event_trigger', 'pg_delete_event_trigger']);

/** Parse metadata already read as JSON; `source` names the file in errors. */
export function parseHasuraMetadata(json: unknown, source = 'metadata'): TriggerDefinition[] {
  const triggers = new Map<string, TriggerDefinition>();
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`));
      return;
    }
    const parsed = entry.safeParse(value);
    if (!parsed.success) throw new HasuraMetadataError(`${source}: ${where}: expected an object {"type": …, "args": …}`);
    const { type, args } = parsed.data;
    if (type === 'bulk') {
      if (!Array.isArray(args)) throw new HasuraMetadataError(`${source}: ${where} (bulk): args must be an array`);
      visit(args, `${where}.args`);
      return;
    }
    if (DELETE.has(type)) {
      const del = deleteArgs.safeParse(args);
      if (!del.success) throw new HasuraMetadataError(`${source}: ${where} (${type}): ${issue(del.error)}`);
      triggers.delete(del.data.name);
      return;
    }
    if (!CREATE.has(type)) return;
    const name = typeof (args as { name?: unknown } | null)?.name === 'string' ? ` "${(args as { name: string }).name}"` : '';
    const create = createArgs.safeParse(args);
    if (!create.success) throw new HasuraMetadataError(`${source}: ${where} (${type}${name}): ${issue(create.error)}`);
    const a = create.data;
    if (triggers.has(a.name) && !a.replace) {
      throw new HasuraMetadataError(`${source}: ${where} (${type}${name}): a trigger of that name is already defined (set "replace": true)`);
    }
    triggers.set(a.name, toDefinition(a));
  };
  visit(json, '$');
  return [...triggers.values()];
}

export async function loadHasuraMetadataFile(file: string): Promise<TriggerDefinition[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new HasuraMetadataError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HasuraMetadataError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseHasuraMetadata(json, file);
}

function toDefinition(a: z.infer<typeof createArgs>): TriggerDefinition {
  const table = typeof a.table === 'string' ? { schema: 'public', name: a.table } : a.table;
  const op = (o: z.infer<typeof operation>) => (o ? { columns: o.columns } : undefined);
  const retry = {
    numRetries: a.retry_conf?.num_retries ?? HASURA_RETRY_DEFAULTS.numRetries,
    intervalSec: a.retry_conf?.interval_sec ?? HASURA_RETRY_DEFAULTS.intervalSec,
    timeoutSec: a.retry_conf?.timeout_sec ?? HASURA_RETRY_DEFAULTS.timeoutSec,
  };
  const def: TriggerDefinition = {
    name: a.name,
    match: {
      kind: 'table',
      schema: table.schema,
      table: table.name,
      ...(a.insert ? { insert: op(a.insert)! } : {}),
      ...(a.update ? { update: op(a.update)! } : {}),
      ...(a.delete ? { delete: op(a.delete)! } : {}),
      ...(a.enable_manual ? { enableManual: true } : {}),
    },
    target: a.webhook ? { kind: 'webhook', url: a.webhook } : { kind: 'webhookFromEnv', env: a.webhook_from_env! },
    retry: { ...retry, maxIntervalSec: Math.max(MAX_INTERVAL_SEC, retry.intervalSec) },
  };
  if (a.headers?.length) {
    def.headers = a.headers.map((h) => ('value' in h ? { name: h.name, value: h.value } : { name: h.name, valueFromEnv: h.value_from_env }));
  }
  return def;
}

function issue(error: z.ZodError): string {
  const first = error.issues[0]!;
  const path = first.path.length ? `${first.path.join('.')} ` : '';
  return `${path}${first.message}`;
}
