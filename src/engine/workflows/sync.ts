/**
 * Syncs workflow definitions from code into `workflow_definitions`, in one
 * transaction under an advisory lock (processes starting at once serialize
 * here; a sync that changes nothing writes nothing):
 * - a declared (name, version) not stored yet is stored;
 * - one stored with another digest is refused: "workflow X version N
 *   changed; bump its version" (instances may have pinned what is stored);
 * - the declared version of each name becomes its only `current` one;
 * - every stored version's start and wait conditions are compiled into
 *   threefactor.workflow_condition (old versions' waits still match).
 * The handlers' triggers are synced with the other triggers (./triggers.ts,
 * by the dispatcher, before this).
 */
import type { Sql } from '../db/client.js';
import type { Logger } from '../log.js';
import { compileCondition, conditionFunctionBody } from '../events/triggers/condition.js';
import type { WorkflowDefinition } from './definition.js';
import { insertDefinitions } from './sql/insertDefinitions.js';
import { loadDefinitions } from './sql/loadDefinitions.js';
import { replaceWorkflowCondition } from './sql/replaceWorkflowCondition.js';
import { setCurrentVersions } from './sql/setCurrentVersions.js';
import { definitionConditions, definitionDigest, typeColumns, validateWorkflow, WorkflowDefinitionError } from './validate.js';

/** Arbitrary but fixed: "3fwf" in ASCII. */
const SYNC_LOCK_KEY = 0x33667766;

export interface WorkflowSyncResult {
  /** `name@version` stored by this sync. */
  inserted: string[];
  /** `name@version` whose `current` flag changed. */
  current: string[];
  conditionsChanged: boolean;
}

export async function syncWorkflows(sql: Sql, definitions: readonly WorkflowDefinition[], log?: Logger): Promise<WorkflowSyncResult> {
  const seen = new Set<string>();
  for (const d of definitions) {
    validateWorkflow(d);
    if (seen.has(d.name)) throw new WorkflowDefinitionError(`workflow "${d.name}" is declared twice`);
    seen.add(d.name);
  }
  const rows = definitions.map((d) => {
    const { types, prefixes } = typeColumns(d.start);
    // Stored as JSON: what is stored is what the digest covers (no undefined fields, no prototypes).
    const definition = JSON.parse(JSON.stringify(d)) as WorkflowDefinition;
    return {
      definition,
      digest: definitionDigest(definition),
      startTypes: types,
      startPrefixes: prefixes,
      startHasCondition: d.start.condition != null,
      keyField: d.start.key && d.start.key !== 'aggregate' ? d.start.key.payloadField : null,
    };
  });
  const result = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SYNC_LOCK_KEY})`;
    const stored = rows.length ? await insertDefinitions(tx, rows) : [];
    for (const s of stored) {
      const declared = rows.find((r) => r.definition.name === s.name && r.definition.version === s.version);
      if (declared && declared.digest !== s.digest) throw new WorkflowDefinitionError(`workflow ${s.name} version ${s.version} changed; bump its version`);
    }
    const current = rows.length ? await setCurrentVersions(tx, rows.map((r) => ({ name: r.definition.name, version: r.definition.version }))) : [];
    const all = await loadDefinitions(tx);
    const conditions = all.flatMap((s) => definitionConditions(s.definition)).map((c) => ({ name: c.name, sql: compileCondition(c.condition, 'event') }));
    const conditionsChanged = await replaceWorkflowCondition(tx, conditionFunctionBody(conditions, 'match_key'));
    return {
      inserted: stored.filter((s) => s.inserted).map((s) => `${s.name}@${s.version}`),
      current: current.map((c) => `${c.name}@${c.version}`),
      conditionsChanged,
    };
  });
  if (result.inserted.length) log?.info({ workflows: result.inserted }, 'workflow versions stored');
  if (result.current.length) log?.info({ workflows: result.current }, 'current workflow versions changed');
  if (result.conditionsChanged) log?.info('workflow conditions recompiled');
  return result;
}
