/**
 * Reads the event triggers of a Hasura v2 metadata export (metadata version
 * 3), as `hasura metadata export` writes it or as the export_metadata API
 * returns it:
 *
 * - the YAML directory: `metadata/version.yaml`, `databases/databases.yaml`
 *   (a list of sources) and the files it includes: `"!include X"` strings
 *   (or `!include X` tags), resolved relative to the including file, at any
 *   depth;
 * - the same tree as one JSON document, `{version: 3, sources: […]}`
 *   (optionally wrapped as `{resource_version, metadata: {…}}`).
 *
 * Both become one list of tables and go through one walk: only the chosen
 * source's tables are read; of a table, its `table` and `event_triggers`
 * (the relationships, permissions … are ignored; a key threefactor does not
 * know is a note); each trigger as hasuraMetadata.ts reads one. Every
 * trigger keeps the file that declared it as its origin.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, type ScalarTag } from 'yaml';
import { z } from 'zod';
import { declaredTwice } from './declared.js';
import { checkDelivery, declareTrigger, deliveryKeys, HasuraMetadataError, issue, operationSpec, tableName, type DeclaredTrigger, type LoadedTriggerFile } from './hasuraMetadata.js';

const METADATA_VERSION = 3;
const POSTGRES_KINDS = new Set(['postgres', 'citus']);

/** What a table entry may hold besides its event triggers (Hasura v2): read past, never applied. */
const IGNORED_TABLE_KEYS = new Set([
  'is_enum',
  'configuration',
  'object_relationships',
  'array_relationships',
  'computed_fields',
  'remote_relationships',
  'insert_permissions',
  'select_permissions',
  'update_permissions',
  'delete_permissions',
  'apollo_federation_config',
  'logical_model',
]);

const exportedTrigger = z
  .object({
    ...deliveryKeys,
    definition: z
      .object({ enable_manual: z.boolean().optional(), insert: operationSpec, update: operationSpec, delete: operationSpec })
      .strict(),
  })
  .strict()
  .superRefine((a, ctx) => {
    checkDelivery(a, ctx);
    const d = a.definition;
    if (!d.insert && !d.update && !d.delete && !d.enable_manual) {
      ctx.addIssue({ code: 'custom', path: ['definition'], message: 'needs at least one of insert, update, delete or enable_manual' });
    }
  });

/** A table entry with its triggers, each labelled with the file it was read from. */
interface TableInput {
  value: unknown;
  origin: string;
  triggers: Array<{ value: unknown; origin: string }>;
}

/** The export's JSON form (or the export_metadata API's answer), as opposed to `create_event_trigger` entries. */
export function isHasuraMetadataExport(json: unknown): boolean {
  if (!isRecord(json) || 'type' in json) return false;
  return 'sources' in json || 'version' in json || (isRecord(json.metadata) && 'sources' in json.metadata);
}

/** A JSON metadata export already parsed; `file` names it in errors and is every trigger's origin. */
export function parseHasuraMetadataExport(json: unknown, file: string, opts: { source: string }): LoadedTriggerFile {
  const metadata = isRecord(json) && !('sources' in json) && isRecord(json.metadata) ? json.metadata : json;
  if (!isRecord(metadata)) throw new HasuraMetadataError(`${file}: expected a metadata object {"version": 3, "sources": […]}`);
  checkVersion(metadata.version, file);
  if (!Array.isArray(metadata.sources)) throw new HasuraMetadataError(`${file}: sources must be a list`);
  const source = pickSource(metadata.sources, opts.source, file);
  const tables = source.tables ?? [];
  if (!Array.isArray(tables)) throw new HasuraMetadataError(`${file}: source "${opts.source}": tables must be a list`);
  const inputs = tables.map((value: unknown): TableInput => {
    const triggers = isRecord(value) ? listOf(value.event_triggers, () => `${file}: ${describeTable(value)}: event_triggers must be a list`) : [];
    return { value, origin: file, triggers: triggers.map((t) => ({ value: t, origin: file })) };
  });
  return triggersOfTables(inputs);
}

/**
 * The YAML export: `target` is its `metadata/` directory, the project
 * directory holding it, or `metadata/databases/databases.yaml`. Origins are
 * shown from the directory holding `metadata/`
 * (`metadata/databases/default/tables/public_orders.yaml`).
 */
export async function loadHasuraMetadataDirectory(target: string, opts: { source: string }): Promise<LoadedTriggerFile> {
  const { metadataDir, databasesFile } = await locate(target);
  const reader = new YamlReader(path.dirname(metadataDir));
  const versionFile = path.join(metadataDir, 'version.yaml');
  if (await exists(versionFile)) {
    const version = await reader.read(versionFile);
    checkVersion(isRecord(version) ? version.version : undefined, reader.display(versionFile));
  }
  const where = reader.display(databasesFile);
  const listed = listOf(await reader.read(databasesFile), () => `${where}: expected a list of sources`);
  // One file at a time, in the export's order: the first problem reported is always the same one.
  const sources: YamlNode[] = [];
  for (const s of listed) sources.push(await reader.deref({ value: s, file: databasesFile }));
  const source = sources[pickSourceIndex(sources.map((s) => s.value), opts.source, where)]!;
  const tablesNode = await reader.deref({ value: (source.value as Record<string, unknown>).tables ?? [], file: source.file });
  const tables = listOf(tablesNode.value, () => `${reader.display(tablesNode.file)}: source "${opts.source}": tables must be a list`);
  const inputs: TableInput[] = [];
  for (const item of tables) {
    const table = await reader.deref({ value: item, file: tablesNode.file });
    const triggers: TableInput['triggers'] = [];
    if (isRecord(table.value)) {
      const list = await reader.deref({ value: table.value.event_triggers, file: table.file });
      const items = listOf(list.value, () => `${reader.display(list.file)}: ${describeTable(table.value)}: event_triggers must be a list`);
      for (const t of items) {
        const trigger = await reader.deref({ value: t, file: list.file });
        triggers.push({ value: trigger.value, origin: reader.display(trigger.file) });
      }
    }
    inputs.push({ value: table.value, origin: reader.display(table.file), triggers });
  }
  return triggersOfTables(inputs);
}

/** The walk both forms share: table entries → declared triggers, notes, and the duplicate-name check. */
function triggersOfTables(tables: TableInput[]): LoadedTriggerFile {
  const declared: DeclaredTrigger[] = [];
  const notes: string[] = [];
  const seen = new Map<string, string>();
  for (const t of tables) {
    if (!isRecord(t.value) || t.value.table === undefined) throw new HasuraMetadataError(`${t.origin}: expected a table entry {"table": {"schema": …, "name": …}, …}`);
    const table = tableName.safeParse(t.value.table);
    if (!table.success) throw new HasuraMetadataError(`${t.origin}: table ${issue(table.error)}`);
    const label = describeTable(t.value);
    for (const key of Object.keys(t.value)) {
      if (key !== 'table' && key !== 'event_triggers' && !IGNORED_TABLE_KEYS.has(key)) notes.push(`${label} (${t.origin}): key "${key}" is not known to threefactor; ignored`);
    }
    t.triggers.forEach(({ value, origin }, i) => {
      const name = isRecord(value) && typeof value.name === 'string' ? value.name : undefined;
      const parsed = exportedTrigger.safeParse(value);
      if (!parsed.success) {
        throw new HasuraMetadataError(`${origin}: ${name !== undefined ? `event trigger "${name}"` : `${label}, event_triggers[${i}]`}: ${issue(parsed.error)}`);
      }
      const a = parsed.data;
      const first = seen.get(a.name);
      if (first !== undefined) {
        throw new HasuraMetadataError(declaredTwice(a.name, first, origin));
      }
      seen.set(a.name, origin);
      const d = a.definition;
      const result = declareTrigger({ table: table.data, insert: d.insert, update: d.update, delete: d.delete, enableManual: d.enable_manual, delivery: a }, origin);
      declared.push(result.trigger);
      notes.push(...result.notes);
    });
  }
  return { triggers: declared, notes };
}

function pickSource(sources: unknown[], name: string, where: string): Record<string, unknown> {
  return sources[pickSourceIndex(sources, name, where)] as Record<string, unknown>;
}

function pickSourceIndex(sources: unknown[], name: string, where: string): number {
  const names = sources.map((s, i) => {
    if (!isRecord(s) || typeof s.name !== 'string') throw new HasuraMetadataError(`${where}: sources[${i}]: expected a source {"name": …, "kind": …, "tables": …}`);
    return s.name;
  });
  const index = names.indexOf(name);
  if (index < 0) {
    throw new HasuraMetadataError(`${where}: no source "${name}" (sources: ${names.length ? names.join(', ') : 'none'}); set TRIGGERS_SOURCE to one of them`);
  }
  const kind = (sources[index] as Record<string, unknown>).kind;
  if (kind !== undefined && !(typeof kind === 'string' && POSTGRES_KINDS.has(kind))) {
    throw new HasuraMetadataError(`${where}: source "${name}" is of kind ${String(kind)}: threefactor captures PostgreSQL tables only`);
  }
  return index;
}

function checkVersion(version: unknown, where: string): void {
  if (version !== METADATA_VERSION) {
    throw new HasuraMetadataError(`${where}: metadata version ${version === undefined ? '(none)' : JSON.stringify(version)} is not supported (expected ${METADATA_VERSION}, as Hasura v2 exports it)`);
  }
}

async function locate(target: string): Promise<{ metadataDir: string; databasesFile: string }> {
  const resolved = path.resolve(target);
  let isDir: boolean;
  try {
    isDir = (await stat(resolved)).isDirectory();
  } catch (err) {
    throw new HasuraMetadataError(`${target}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!isDir) return { metadataDir: path.dirname(path.dirname(resolved)), databasesFile: resolved };
  for (const metadataDir of [resolved, path.join(resolved, 'metadata')]) {
    const databasesFile = path.join(metadataDir, 'databases', 'databases.yaml');
    if (await exists(databasesFile)) return { metadataDir, databasesFile };
  }
  throw new HasuraMetadataError(`${target}: not a Hasura metadata directory (no databases/databases.yaml, nor metadata/databases/databases.yaml)`);
}

interface YamlNode {
  value: unknown;
  /** The file the value was read from: an include in it is relative to its directory. */
  file: string;
}

const INCLUDE = /^!include\s+(\S.*)$/;

/** Hasura writes includes as quoted strings; a hand-written unquoted `!include x` tag reads the same. */
const includeTag: ScalarTag = { tag: '!include', resolve: (value) => `!include ${value}` };

class YamlReader {
  constructor(private readonly displayBase: string) {}

  /** Paths as the operator knows them: from the directory holding metadata/, or absolute when outside it. */
  display(file: string): string {
    const rel = path.relative(this.displayBase, file);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  }

  async read(file: string, includedBy?: { file: string; include: string }): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (includedBy) throw new HasuraMetadataError(`${this.display(includedBy.file)}: "!include ${includedBy.include}": cannot read ${this.display(file)} (${code})`);
      throw new HasuraMetadataError(`${this.display(file)}: cannot read (${code})`);
    }
    const doc = parseDocument(text, { customTags: [includeTag] });
    const error = doc.errors[0];
    // yaml's message goes on with a code frame on later lines; the first names the problem and where.
    if (error) throw new HasuraMetadataError(`${this.display(file)}: not valid YAML (${error.message.split('\n')[0]!.replace(/:$/, '')})`);
    return doc.toJS() as unknown;
  }

  /** Follows `"!include X"` (an included file may itself be one include); anything else is returned as is. */
  async deref(node: YamlNode): Promise<YamlNode> {
    let current = node;
    const chain = new Set([node.file]);
    for (;;) {
      const match = typeof current.value === 'string' ? INCLUDE.exec(current.value.trim()) : null;
      if (!match) return current;
      const include = match[1]!.trim();
      const file = path.resolve(path.dirname(current.file), include);
      if (chain.has(file)) throw new HasuraMetadataError(`${this.display(current.file)}: "!include ${include}" forms an include cycle`);
      chain.add(file);
      current = { value: await this.read(file, { file: current.file, include }), file };
    }
  }
}

function listOf(value: unknown, problem: () => string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HasuraMetadataError(problem());
  return value;
}

function describeTable(entry: unknown): string {
  const t = isRecord(entry) ? entry.table : undefined;
  if (typeof t === 'string') return `table public.${t}`;
  if (isRecord(t)) return `table ${typeof t.schema === 'string' ? t.schema : 'public'}.${String(t.name)}`;
  return 'table ?';
}

/** Only a missing file is absent: any other failure is left for the read to report. */
async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
