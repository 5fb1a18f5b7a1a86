/**
 * TRIGGERS_FILE: the one entry point for Hasura event-trigger metadata, in
 * whichever form the operator has it:
 *
 * - a `hasura metadata export` directory (its `metadata/` directory, the
 *   project directory holding it, or `metadata/databases/databases.yaml`),
 *   or any `.yaml` / `.yml` file taken as databases.yaml;
 * - a JSON metadata export (`{version: 3, sources: […]}`);
 * - a JSON file of `create_event_trigger` entries (bulk or not).
 *
 * `source` picks the Hasura source whose triggers load from an export (the
 * caller's TRIGGERS_SOURCE, `default` unless set); `create_event_trigger`
 * entries load whatever source they name, as they always have.
 */
import { stat } from 'node:fs/promises';
import { HasuraMetadataError, parseHasuraMetadataEntries, readJsonFile, type LoadedTriggerFile } from './hasuraMetadata.js';
import { isHasuraMetadataExport, loadHasuraMetadataDirectory, parseHasuraMetadataExport } from './hasuraMetadataExport.js';

export { HasuraMetadataError, type DeclaredTrigger, type LoadedTriggerFile } from './hasuraMetadata.js';

const YAML_FILE = /\.ya?ml$/i;

export async function loadTriggersFile(file: string, opts: { source: string }): Promise<LoadedTriggerFile> {
  let isDir: boolean;
  try {
    isDir = (await stat(file)).isDirectory();
  } catch (err) {
    throw new HasuraMetadataError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (isDir || YAML_FILE.test(file)) return loadHasuraMetadataDirectory(file, opts);
  const json = await readJsonFile(file);
  return isHasuraMetadataExport(json) ? parseHasuraMetadataExport(json, file, opts) : parseHasuraMetadataEntries(json, file);
}
