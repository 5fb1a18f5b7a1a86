import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadApp } from '../../src/cli/apps.js';
import { printedSchema, schemaFileFor } from '../../src/cli/schemaPrint.js';
import { runCommand } from '../support/processes.js';

describe('the printed SDL in schema/ (run `npm run schema:print` and `APP=none npm run schema:print` when these fail)', () => {
  it('schema/schema.graphql matches the food-delivery app’s schema', async () => {
    const app = await loadApp('food-delivery');
    expect(await readFile(schemaFileFor(app), 'utf8')).toBe(printedSchema());
  });

  it('schema/engine.graphql matches the engine alone (APP=none, in its own process), which has no domain types', async () => {
    const proc = runCommand(['schema:print', '--check'], { APP: 'none', NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const { code } = await proc.exited;
    expect(proc.stderr()).toBe('');
    expect(code).toBe(0);
    const engine = await readFile(schemaFileFor(undefined), 'utf8');
    expect(engine).toMatch(/\bdeliveries\(/);
    expect(engine).toMatch(/\bevents\(/);
    expect(engine).not.toMatch(/\bOrder\b|placeOrder|Restaurant/);
  });
});
