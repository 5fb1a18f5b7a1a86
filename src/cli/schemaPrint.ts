/**
 * `schema:print`: writes the SDL printed from the code to schema/schema.graphql.
 * `--check` exits 1 when the file is stale instead of writing it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildSchema } from '../graphql/schema.js';

export const SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema/schema.graphql');

export function printedSchema(): string {
  return `${printSchema(buildSchema())}\n`;
}

export async function schemaPrint(args: string[]): Promise<void> {
  const sdl = printedSchema();
  if (args.includes('--check')) {
    const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (current !== sdl) {
      process.stderr.write(`threefactor: ${SCHEMA_FILE} is stale; run npm run schema:print\n`);
      process.exit(1);
    }
    process.stdout.write('schema is up to date\n');
    return;
  }
  await writeFile(SCHEMA_FILE, sdl);
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}
