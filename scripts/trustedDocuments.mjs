#!/usr/bin/env node
/**
 * Collects the trusted-documents manifest: the persisted documents
 * graphql-codegen wrote for each of its targets (codegen.ts), merged into
 * schema/trusted-documents.json, `{ "<id>": "<document>" }`, the file
 * TRUSTED_DOCUMENTS names. Run by `npm run codegen` after codegen;
 * `--check` exits 1 when the committed manifest differs (a stale one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCES = ['web-demo/src/gql/persisted-documents.json', 'src/apps/food-delivery/handlers/gql/persisted-documents.json'];
export const MANIFEST = 'schema/trusted-documents.json';

export function collect() {
  const merged = {};
  for (const source of SOURCES) Object.assign(merged, JSON.parse(readFileSync(path.join(root, source), 'utf8')));
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = collect();
  const file = path.join(root, MANIFEST);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`${MANIFEST} is stale: run npm run codegen`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    console.log(`${MANIFEST}: ${Object.keys(JSON.parse(text)).length} documents`);
  }
}
