/**
 * TRIGGERS_FILE accepts a `hasura metadata export` unchanged: the YAML
 * directory (with its includes and several sources), the same export as
 * JSON, and the create_event_trigger form as before; payload column lists
 * shape the body, and `{{ENV}}` URL templates are filled in at delivery;
 * the `threefactor` object maps onto the definition, and without it a trigger
 * keeps Hasura's rule (no permanent statuses, 410 does not pause).
 * No database: loaders read real files, deliveries go to a real receiver.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../src/engine/dispatcher/delivery/attempt.js';
import { projectRow, webhookBody } from '../../src/engine/dispatcher/delivery/body.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { renderUrlTemplate, templateVariables, urlTemplateProblem } from '../../src/engine/dispatcher/delivery/urlTemplate.js';
import { retryPolicy, type TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { routingColumns } from '../../src/engine/events/triggers/routing.js';
import { HasuraMetadataError, loadTriggersFile, type LoadedTriggerFile } from '../../src/engine/events/triggers/triggersFile.js';
import { parseHasuraMetadataEntries } from '../../src/engine/events/triggers/hasuraMetadata.js';
import type { ClaimedDelivery } from '../../src/engine/events/sql/claimDeliveries.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const PROJECT = path.join(FIXTURES, 'hasura-export');
const METADATA = path.join(PROJECT, 'metadata');
const TABLES = 'metadata/databases/default/tables';
const hour = 3600;
const hasuraRetry = { numRetries: 0, intervalSec: 10, timeoutSec: 60, maxIntervalSec: hour };
/** What a trigger without a `threefactor` object gets: Hasura retries every non-2xx and never pauses on 410. */
const hasuraRule = { permanentStatuses: [], pauseOnGone: false };

const EXPECTED_DEFAULT: LoadedTriggerFile = {
  triggers: [
    {
      origin: `${TABLES}/public_menu_items.yaml`,
      definition: {
        name: 'menu_item_changed',
        match: { kind: 'table', schema: 'public', table: 'menu_items', insert: { columns: '*' }, update: { columns: '*' }, delete: { columns: '*' }, enableManual: true },
        target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/menu' },
        retry: hasuraRetry,
        ...hasuraRule,
      },
    },
    {
      origin: `${TABLES}/public_orders.yaml`,
      definition: {
        name: 'order_created',
        match: { kind: 'table', schema: 'public', table: 'orders', insert: { columns: '*' } },
        target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/order-created' },
        headers: [
          { name: 'x-api-key', valueFromEnv: 'ORDERS_API_KEY' },
          { name: 'x-source', value: 'hasura-export' },
        ],
        retry: { numRetries: 3, intervalSec: 1, timeoutSec: 10, maxIntervalSec: hour },
        ...hasuraRule,
      },
    },
    {
      origin: `${TABLES}/public_orders.yaml`,
      definition: {
        name: 'order_status_changed',
        match: { kind: 'table', schema: 'public', table: 'orders', update: { columns: ['status'], payload: ['id', 'status'] } },
        target: { kind: 'webhookFromEnv', env: 'STATUS_WEBHOOK_URL' },
        retry: hasuraRetry,
        ...hasuraRule,
      },
    },
    {
      origin: `${TABLES}/public_payments.yaml`,
      definition: {
        name: 'payment_settled',
        match: { kind: 'table', schema: 'public', table: 'payments', update: { columns: ['status'] } },
        target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/payment' },
        retry: hasuraRetry,
        ...hasuraRule,
      },
    },
  ],
  notes: [
    `event trigger "order_status_changed" (${TABLES}/public_orders.yaml): cleanup_config is not applied by threefactor (retention is RETENTION_*); ignored`,
    `event trigger "payment_settled" (${TABLES}/public_payments.yaml): retry_conf.tolerance_sec is not applied by threefactor; ignored`,
  ],
};

const defaultSource = { source: 'default' };

describe('a hasura metadata export directory', () => {
  it('loads the default source’s triggers exactly, with origins and notes', async () => {
    const loaded = await loadTriggersFile(METADATA, defaultSource);
    expect(loaded).toEqual(EXPECTED_DEFAULT);
    // Every definition is one the dispatcher accepts, template URLs included.
    for (const t of loaded.triggers) expect(() => routingColumns(t.definition)).not.toThrow();
  });

  it('reads the same from databases.yaml, the project directory, and the JSON export', async () => {
    expect(await loadTriggersFile(path.join(METADATA, 'databases', 'databases.yaml'), defaultSource)).toEqual(EXPECTED_DEFAULT);
    expect(await loadTriggersFile(PROJECT, defaultSource)).toEqual(EXPECTED_DEFAULT);

    const json = path.join(PROJECT, 'metadata.json');
    const fromJson = await loadTriggersFile(json, defaultSource);
    expect(fromJson.triggers).toEqual(EXPECTED_DEFAULT.triggers.map((t) => ({ ...t, origin: json })));
    expect(fromJson.notes).toEqual(EXPECTED_DEFAULT.notes.map((n) => n.replace(/\(metadata\/[^)]+\)/, `(${json})`)));
  });

  it('loads only the chosen source (TRIGGERS_SOURCE)', async () => {
    expect(await loadTriggersFile(METADATA, { source: 'analytics' })).toEqual<LoadedTriggerFile>({
      triggers: [
        {
          origin: 'metadata/databases/analytics/tables/public_page_views.yaml',
          definition: {
            name: 'page_view_recorded',
            match: { kind: 'table', schema: 'public', table: 'page_views', insert: { columns: '*' } },
            target: { kind: 'webhook', url: '{{ANALYTICS_BASE_URL}}/page-view' },
            retry: hasuraRetry,
            ...hasuraRule,
        ...hasuraRule,
          },
        },
      ],
      notes: [],
    });
  });
});

describe('a broken export is refused with one line naming the file and the trigger', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const trigger = (name: string, extra = '') =>
    `  - name: ${name}\n    definition:\n      enable_manual: false\n      insert:\n        columns: '*'\n    retry_conf:\n      interval_sec: 10\n      num_retries: 0\n      timeout_sec: 60\n    webhook: '{{BASE}}/x'\n${extra}`;
  const tableFile = (table: string, triggers: string, extra = '') => `table:\n  name: ${table}\n  schema: public\n${extra}event_triggers:\n${triggers}`;

  /** A metadata/ directory with one default source whose tables.yaml includes `tables`. */
  async function exportDir(tables: Record<string, string>, opts: { include?: string[]; databases?: string } = {}): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), 'tf-hasura-export-'));
    const tablesDir = path.join(dir, 'metadata', 'databases', 'default', 'tables');
    await mkdir(tablesDir, { recursive: true });
    await writeFile(path.join(dir, 'metadata', 'version.yaml'), 'version: 3\n');
    await writeFile(
      path.join(dir, 'metadata', 'databases', 'databases.yaml'),
      opts.databases ?? '- name: default\n  kind: postgres\n  configuration: {}\n  tables: "!include default/tables/tables.yaml"\n',
    );
    const include = opts.include ?? Object.keys(tables);
    await writeFile(path.join(tablesDir, 'tables.yaml'), include.map((f) => `- "!include ${f}"\n`).join(''));
    for (const [file, text] of Object.entries(tables)) await writeFile(path.join(tablesDir, file), text);
    return path.join(dir, 'metadata');
  }

  async function failure(metadata: string, source = 'default'): Promise<string> {
    try {
      await loadTriggersFile(metadata, { source });
    } catch (e) {
      expect(e).toBeInstanceOf(HasuraMetadataError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('expected an error');
  }

  const orders = `${TABLES}/public_orders.yaml`;

  it('an unknown key in a trigger, its definition, an operation, retry_conf or a header', async () => {
    expect(await failure(await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('t', '    comment: hi\n')) }))).toBe(
      `${orders}: event trigger "t": unknown key comment`,
    );
    await rm(dir!, { recursive: true });
    const upsert = tableFile('orders', trigger('t').replace('      enable_manual: false\n', '      enable_manual: false\n      upsert:\n        columns: "*"\n'));
    expect(await failure(await exportDir({ 'public_orders.yaml': upsert }))).toBe(`${orders}: event trigger "t": unknown key definition.upsert`);
    await rm(dir!, { recursive: true });
    const op = tableFile('orders', trigger('t').replace("        columns: '*'\n", "        columns: '*'\n        colums: [id]\n"));
    expect(await failure(await exportDir({ 'public_orders.yaml': op }))).toBe(`${orders}: event trigger "t": unknown key definition.insert.colums`);
    await rm(dir!, { recursive: true });
    const retry = tableFile('orders', trigger('t').replace('      timeout_sec: 60\n', '      timeout_sec: 60\n      backoff: linear\n'));
    expect(await failure(await exportDir({ 'public_orders.yaml': retry }))).toBe(`${orders}: event trigger "t": unknown key retry_conf.backoff`);
    await rm(dir!, { recursive: true });
    const header = tableFile('orders', trigger('t', '    headers:\n      - name: x-a\n        value: b\n        secret: true\n'));
    expect(await failure(await exportDir({ 'public_orders.yaml': header }))).toBe(`${orders}: event trigger "t": unknown key headers[0].secret`);
  });

  it('request_transform and response_transform, which would change what the handler receives', async () => {
    const transform = '    request_transform:\n      version: 2\n      template_engine: Kriti\n      body:\n        action: transform\n        template: "{{$body.event}}"\n';
    expect(await failure(await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('order_created', transform)) }))).toBe(
      `${orders}: event trigger "order_created": request_transform is not supported by threefactor`,
    );
    await rm(dir!, { recursive: true });
    const response = '    response_transform:\n      version: 2\n      body:\n        action: remove\n';
    expect(await failure(await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('order_created', response)) }))).toBe(
      `${orders}: event trigger "order_created": response_transform is not supported by threefactor`,
    );
  });

  it('an include that does not exist, and an include cycle', async () => {
    expect(await failure(await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('t')) }, { include: ['public_orders.yaml', 'public_ghosts.yaml'] }))).toBe(
      `${TABLES}/tables.yaml: "!include public_ghosts.yaml": cannot read ${TABLES}/public_ghosts.yaml (ENOENT)`,
    );
    await rm(dir!, { recursive: true });
    expect(await failure(await exportDir({ 'a.yaml': '"!include b.yaml"\n', 'b.yaml': '"!include a.yaml"\n' }, { include: ['a.yaml'] }))).toBe(
      `${TABLES}/b.yaml: "!include a.yaml" forms an include cycle`,
    );
  });

  it('a source that is not in the export, naming the ones that are', async () => {
    const metadata = await exportDir(
      { 'public_orders.yaml': tableFile('orders', trigger('t')) },
      { databases: '- name: analytics\n  kind: postgres\n  tables: []\n- name: default\n  kind: postgres\n  tables: "!include default/tables/tables.yaml"\n' },
    );
    expect(await failure(metadata, 'reporting')).toBe('metadata/databases/databases.yaml: no source "reporting" (sources: analytics, default); set TRIGGERS_SOURCE to one of them');
  });

  it('one trigger name in two table files, naming both', async () => {
    const metadata = await exportDir({
      'public_orders.yaml': tableFile('orders', trigger('order_changed')),
      'public_payments.yaml': tableFile('payments', trigger('order_changed')),
    });
    expect(await failure(metadata)).toBe(`event trigger "order_changed" is declared twice: in ${TABLES}/public_orders.yaml and in ${TABLES}/public_payments.yaml`);
  });

  it('an unknown table-level key is a note, the known ones pass silently; an unquoted !include tag reads the same', async () => {
    const extra = 'is_enum: false\ncomputed_fields: []\nremote_relationships: []\napollo_federation_config:\n  enable: v1\nmystery_feature: {}\n';
    const metadata = await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('t'), extra) });
    await writeFile(path.join(metadata, 'databases', 'default', 'tables', 'tables.yaml'), '- !include public_orders.yaml\n');
    const loaded = await loadTriggersFile(metadata, defaultSource);
    expect(loaded.triggers.map((t) => t.definition.name)).toEqual(['t']);
    expect(loaded.notes).toEqual([`table public.orders (${orders}): key "mystery_feature" is not known to threefactor; ignored`]);
  });

  it('an unknown key or a wrong type inside the threefactor object, and an invalid condition', async () => {
    const withOptions = (options: string) => ({ 'public_orders.yaml': tableFile('orders', trigger('t', `    threefactor:\n${options}`)) });
    expect(await failure(await exportDir(withOptions('      pause_on_410: true\n')))).toBe(`${orders}: event trigger "t": unknown key threefactor.pause_on_410`);
    await rm(dir!, { recursive: true });
    expect(await failure(await exportDir(withOptions('      pause_on_gone: sometimes\n')))).toMatch(new RegExp(`^${orders}: event trigger "t": threefactor.pause_on_gone `));
    await rm(dir!, { recursive: true });
    expect(await failure(await exportDir(withOptions('      condition: { new: { status: { _eq: paid } }, neww: {} }\n')))).toBe(
      `${orders}: event trigger "t": threefactor.condition: unknown key "neww" (expected "new", "old", "_and", "_or" or "_not")`,
    );
  });

  it('other metadata versions, invalid YAML, a source of another kind, a directory that is no export', async () => {
    const metadata = await exportDir({ 'public_orders.yaml': tableFile('orders', trigger('t')) });
    await writeFile(path.join(metadata, 'version.yaml'), 'version: 2\n');
    expect(await failure(metadata)).toBe('metadata/version.yaml: metadata version 2 is not supported (expected 3, as Hasura v2 exports it)');
    await writeFile(path.join(metadata, 'version.yaml'), 'version: 3\n');
    await writeFile(path.join(metadata, 'databases', 'default', 'tables', 'public_orders.yaml'), 'table: [unclosed\n');
    expect(await failure(metadata)).toBe(`${orders}: not valid YAML (Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1)`);
    await writeFile(path.join(metadata, 'databases', 'databases.yaml'), '- name: default\n  kind: mssql\n  tables: []\n');
    expect(await failure(metadata)).toBe('metadata/databases/databases.yaml: source "default" is of kind mssql: threefactor captures PostgreSQL tables only');
    expect(await failure(path.join(metadata, 'databases', 'default'))).toMatch(/default: not a Hasura metadata directory \(no databases\/databases\.yaml/);
  });
});

describe('the create_event_trigger JSON form through loadTriggersFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const ok = { name: 'x', table: { schema: 'public', name: 'orders' }, webhook: '{{BASE}}/x', insert: { columns: '*' } };
  async function jsonFile(json: unknown): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), 'tf-hasura-json-'));
    const file = path.join(dir, 'triggers.json');
    await writeFile(file, JSON.stringify(json));
    return file;
  }

  it('still loads as before, every trigger with the file as origin', async () => {
    const file = path.join(FIXTURES, 'hasura-triggers.json');
    const loaded = await loadTriggersFile(file, defaultSource);
    expect(loaded.triggers.map((t) => [t.definition.name, t.origin])).toEqual([
      ['order_placed', file],
      ['order_status_changed', file],
      ['driver_availability', file],
      ['payment_failed', file],
    ]);
    expect(loaded.notes).toEqual([]);
  });

  it('carries payload, keeps URL templates, notes cleanup_config, and refuses unknown keys', async () => {
    const file = await jsonFile({
      type: 'bulk',
      args: [
        {
          type: 'pg_create_event_trigger',
          args: { ...ok, update: { columns: ['status'], payload: ['id', 'status'] }, cleanup_config: { clear_older_than: 168, schedule: '0 0 * * *' } },
        },
      ],
    });
    const loaded = await loadTriggersFile(file, defaultSource);
    expect(loaded.triggers[0]!.definition.match).toEqual({ kind: 'table', schema: 'public', table: 'orders', insert: { columns: '*' }, update: { columns: ['status'], payload: ['id', 'status'] } });
    expect(loaded.triggers[0]!.definition.target).toEqual({ kind: 'webhook', url: '{{BASE}}/x' });
    expect(loaded.notes).toEqual([`event trigger "x" (${file}): cleanup_config is not applied by threefactor (retention is RETENTION_*); ignored`]);
    await rm(dir!, { recursive: true });

    const strict = await jsonFile({ type: 'create_event_trigger', args: { ...ok, retry_conf: { num_retries: 1, interval: 5 } } });
    await expect(loadTriggersFile(strict, defaultSource)).rejects.toThrow(`${strict}: $ (create_event_trigger "x"): unknown key retry_conf.interval`);
    await rm(dir!, { recursive: true });

    // Hasura's default for Postgres (false) is threefactor's behaviour; true is not.
    const replication = await jsonFile([
      { type: 'create_event_trigger', args: { ...ok, trigger_on_replication: false } },
      { type: 'create_event_trigger', args: { ...ok, name: 'y', trigger_on_replication: true } },
    ]);
    await expect(loadTriggersFile(replication, defaultSource)).rejects.toThrow(
      `${replication}: $[1] (create_event_trigger "y"): trigger_on_replication true is not supported by threefactor (capture triggers do not fire for writes applied by logical replication)`,
    );
  });

  it('reads the export_metadata API’s answer, {resource_version, metadata}', async () => {
    const exported = JSON.parse(await readFile(path.join(PROJECT, 'metadata.json'), 'utf8')) as unknown;
    const file = await jsonFile({ resource_version: 42, metadata: exported });
    const loaded = await loadTriggersFile(file, defaultSource);
    expect(loaded.triggers).toEqual(EXPECTED_DEFAULT.triggers.map((t) => ({ ...t, origin: file })));
    await rm(dir!, { recursive: true });
    const v2 = await jsonFile({ version: 2, tables: [] });
    await expect(loadTriggersFile(v2, defaultSource)).rejects.toThrow(`${v2}: metadata version 2 is not supported (expected 3, as Hasura v2 exports it)`);
  });
});

describe('the threefactor object', () => {
  const CONDITIONS = path.join(FIXTURES, 'hasura-conditions');

  it('maps onto the definition; without it, a trigger keeps Hasura’s rule', async () => {
    const loaded = await loadTriggersFile(CONDITIONS, defaultSource);
    const origin = 'metadata/databases/databases.yaml';
    const match = { kind: 'table', schema: 'public', table: 'cond_orders' } as const;
    expect(loaded).toEqual<LoadedTriggerFile>({
      triggers: [
        {
          origin,
          definition: {
            name: 'meta_order_paid',
            match: { ...match, insert: { columns: '*' }, update: { columns: ['status'] } },
            target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/paid' },
            retry: { numRetries: 2, intervalSec: 10, timeoutSec: 60, maxIntervalSec: hour },
            permanentStatuses: [400, 413, 422],
            pauseOnGone: true,
            condition: { _and: [{ new: { status: { _eq: 'paid' } } }, { old: { status: { _neq: 'paid' } } }] },
            concurrency: 10,
            ratePerSecond: 50,
          },
        },
        {
          origin,
          // Only a condition: the statuses and 410 keep Hasura's rule.
          definition: {
            name: 'meta_order_large',
            match: { ...match, insert: { columns: '*' } },
            target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/large' },
            retry: hasuraRetry,
            ...hasuraRule,
            condition: { new: { total: { _gte: 100 } } },
          },
        },
        {
          origin,
          definition: {
            name: 'meta_order_any',
            match: { ...match, insert: { columns: '*' }, update: { columns: '*' } },
            target: { kind: 'webhook', url: '{{ORDERS_BASE_URL}}/any' },
            retry: hasuraRetry,
            ...hasuraRule,
          },
        },
      ],
      notes: [],
    });
    for (const t of loaded.triggers) expect(() => routingColumns(t.definition)).not.toThrow();
  });

  it('reads the same in the create_event_trigger form', () => {
    const threefactor = { permanent_statuses: [409], pause_on_gone: true, concurrency: 2, rate_per_second: 0.5, condition: { new: { status: { _changed: true } } } };
    const args = { name: 'x', table: 'orders', webhook: 'http://127.0.0.1:9/x', update: { columns: '*' } };
    const [opted, plain] = parseHasuraMetadataEntries([
      { type: 'create_event_trigger', args: { ...args, threefactor } },
      { type: 'create_event_trigger', args: { ...args, name: 'y', threefactor: {} } },
    ]).triggers.map((t) => t.definition);
    expect(opted).toMatchObject({ permanentStatuses: [409], pauseOnGone: true, concurrency: 2, ratePerSecond: 0.5, condition: threefactor.condition });
    expect(plain).toMatchObject(hasuraRule);
    expect(plain).not.toHaveProperty('condition');
    expect(plain).not.toHaveProperty('concurrency');
  });
});

describe('payload: the columns the body carries', () => {
  const row = { id: 'o1', customer_name: 'Ada', status: 'paid', total_cents: 1850, updated_at: '2026-01-01T00:00:00Z' };
  const delivery = (op: 'INSERT' | 'UPDATE' | 'DELETE' | 'MANUAL', old: Record<string, unknown> | null, now: Record<string, unknown> | null): ClaimedDelivery => ({
    id: 'd1',
    triggerName: 't',
    attempts: 0,
    maxAttempts: 1,
    claims: 1,
    orderingKey: null,
    source: 'event',
    event: {
      id: 'e1',
      type: `public.orders.${op}`,
      aggregateType: 'table:public.orders',
      aggregateId: 'o1',
      payload: { op, data: { old, new: now } },
      session: null,
      traceContext: null,
      createdAt: '2026-01-01T00:00:00.000000Z',
    },
  });
  const match: TriggerDefinition['match'] = {
    kind: 'table',
    schema: 'public',
    table: 'orders',
    insert: { columns: '*', payload: ['id', 'total_cents'] },
    update: { columns: ['status'], payload: ['status', 'id', 'no_such_column'] },
    delete: { columns: '*' },
    enableManual: true,
  };

  it('projects data.old and data.new of that operation onto the listed columns, in their order', () => {
    const update = webhookBody('t', delivery('UPDATE', { ...row, status: 'new' }, row), match);
    expect(update.event.data).toEqual({ old: { status: 'new', id: 'o1' }, new: { status: 'paid', id: 'o1' } });
    expect(Object.keys(update.event.data.new!)).toEqual(['status', 'id']);
    expect(webhookBody('t', delivery('INSERT', null, row), match).event.data).toEqual({ old: null, new: { id: 'o1', total_cents: 1850 } });
    // No payload (or "*"): the whole row; a manual invocation sends its row as given.
    expect(webhookBody('t', delivery('DELETE', row, null), match).event.data).toEqual({ old: row, new: null });
    expect(webhookBody('t', delivery('MANUAL', null, row), match).event.data).toEqual({ old: null, new: row });
    expect(projectRow(row, '*')).toBe(row);
  });

  it('routing refuses an empty or malformed payload list', () => {
    const def = (payload: unknown): TriggerDefinition => ({
      name: 'p',
      match: { kind: 'table', schema: 'public', table: 'orders', update: { columns: '*', payload: payload as string[] } },
      target: { kind: 'webhook', url: 'http://127.0.0.1:1/x' },
    });
    expect(() => routingColumns(def([]))).toThrow('event trigger "p": update.payload must be "*" or a non-empty list of column names');
    expect(() => routingColumns(def(['id', '']))).toThrow('update.payload must be');
    expect(() => routingColumns(def('id'))).toThrow('update.payload must be');
    // The payload does not change routing: the update columns do.
    expect(routingColumns(def(['id'])).updateColumns).toBeNull();
  });
});

describe('{{ENV}} webhook URL templates', () => {
  it('are validated without the environment, as they will be once filled in', () => {
    expect(templateVariables('{{BASE}}/a/{{TENANT}}')).toEqual(['BASE', 'TENANT']);
    expect(urlTemplateProblem('{{BASE}}/order')).toBeUndefined();
    expect(urlTemplateProblem('https://{{HOST}}:{{PORT}}/order')).toBeUndefined();
    expect(urlTemplateProblem('{{WEBHOOK_URL}}')).toBeUndefined();
    expect(urlTemplateProblem('ftp://{{HOST}}/x')).toBe('must be an http(s) URL');
    expect(urlTemplateProblem('{{ BASE }}/x')).toMatch(/malformed/);
    expect(urlTemplateProblem('{{BASE/x')).toMatch(/malformed/);
    const def = (url: string): TriggerDefinition => ({ name: 'w', match: { kind: 'event', types: ['*'] }, target: { kind: 'webhook', url } });
    expect(() => routingColumns(def('{{ORDERS_BASE_URL}}/order-created'))).not.toThrow();
    expect(() => routingColumns(def('ftp://nope'))).toThrow('event trigger "w": target.url must be an http(s) URL');
    expect(() => routingColumns(def('http://x/{{a-b}}'))).toThrow('event trigger "w": target.url has a malformed {{…}} placeholder');
  });

  it('are filled in from the environment, or name the missing variable', () => {
    expect(renderUrlTemplate('{{BASE}}/a/{{ID}}', { BASE: 'http://h:1/$1', ID: '7' })).toEqual({ url: 'http://h:1/$1/a/7' });
    expect(renderUrlTemplate('http://plain/x', {})).toEqual({ url: 'http://plain/x' });
    expect(renderUrlTemplate('{{BASE}}/a/{{ID}}', { BASE: 'http://h' })).toEqual({ missing: 'ID' });
    expect(renderUrlTemplate('{{BASE}}/a', { BASE: '' })).toEqual({ missing: 'BASE' });
  });

  describe('at delivery', () => {
    let receiver: Receiver;
    beforeAll(async () => {
      receiver = await startReceiver();
    });
    afterAll(async () => {
      await receiver.close();
    });

    it('an attempt posts to the filled-in URL, and fails naming an unset variable; the definition keeps the template', async () => {
      const [declared] = (await loadTriggersFile(METADATA, defaultSource)).triggers.filter((t) => t.definition.name === 'order_created');
      const definition = declared!.definition;
      const trigger = { name: definition.name, definition, policy: retryPolicy(definition) };
      const d: ClaimedDelivery = {
        id: 'd1',
        triggerName: definition.name,
        attempts: 0,
        maxAttempts: 4,
        claims: 1,
        orderingKey: null,
        source: 'event',
        event: {
          id: 'e1',
          type: 'public.orders.INSERT',
          aggregateType: 'table:public.orders',
          aggregateId: 'o1',
          payload: { op: 'INSERT', data: { old: null, new: { id: 'o1', status: 'new' } } },
          session: null,
          traceContext: null,
          createdAt: '2026-01-01T00:00:00.000000Z',
        },
      };
      const ctx = (env: Record<string, string>) => ({ signer: webhookSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), env, handlers: {} });
      const signal = new AbortController().signal;

      const sent = await attemptDelivery(trigger, d, ctx({ ORDERS_BASE_URL: `${receiver.url}/hooks`, ORDERS_API_KEY: 'k-1' }), signal);
      expect(sent).toMatchObject({ kind: 'response', status: 200 });
      const req = receiver.forTrigger('order_created')[0]!;
      expect(req.path).toBe('/hooks/order-created');
      expect(req.headers['x-api-key']).toBe('k-1');
      expect(req.headers['x-source']).toBe('hasura-export');
      expect(req.json).toMatchObject({ trigger: { name: 'order_created' }, event: { op: 'INSERT', data: { old: null, new: { id: 'o1', status: 'new' } } } });

      expect(await attemptDelivery(trigger, d, ctx({ ORDERS_API_KEY: 'k-1' }), signal)).toEqual({ kind: 'error', error: 'webhook URL variable ORDERS_BASE_URL is not set', timedOut: false });
      expect(definition.target).toEqual({ kind: 'webhook', url: '{{ORDERS_BASE_URL}}/order-created' });
    });
  });
});
