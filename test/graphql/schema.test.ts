import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../../src/cli/schemaPrint.js';

describe('schema/schema.graphql', () => {
  it('matches the schema printed from the code (run `npm run schema:print` when this fails)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });
});
