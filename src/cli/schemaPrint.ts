/**
 * `schema:print`: writes the SDL printed from the code: the app's schema to
 * schema/schema.graphql, or with APP=none the engine's alone to
 * schema/engine.graphql. `--check` exits 1 when the file is stale instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { loadApp } from './apps.js';
import { buildSchema } from '../engine/graphql/schema.js';
import { readConfig } from '../engine/commands/runtime.js';

const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema');

/** The printed SDL of the process's app (which must be loaded first), and the file that holds it. */
export function schemaFileFor(app: { name: string } | undefined): string {
  return path.join(SCHEMA_DIR, app ? 'schema.graphql' : 'engine.graphql');
}

export function printedSchema(): string {
  return `${printSchema(buildSchema())}\n`;
}

export async function schemaPrint(args: string[]): Promise<void> {
  const { APP } = readConfig();
  const file = schemaFileFor(await loadApp(APP));
  const sdl = printedSchema();
  if (args.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== sdl) {
      process.stderr.write(`threefactor: ${file} is stale; run APP=${APP} npm run schema:print\n`);
      process.exit(1);
    }
    process.stdout.write('schema is up to date\n');
    return;
  }
  await writeFile(file, sdl);
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
