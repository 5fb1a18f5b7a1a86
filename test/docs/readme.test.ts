/**
 * The README against the code it documents: every environment variable the
 * config accepts has a row in its configuration table, every row names a
 * variable that exists, and the production layout it points to (the
 * Procfile) runs real commands on `node` itself, so signals reach it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/engine/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The variables named in the first column of the README's configuration table. */
function documentedVariables(): Set<string> {
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('README', () => {
  it('documents every config variable in its configuration table, and no other', () => {
    const documented = documentedVariables();
    const accepted = Object.keys(configSchema.shape);
    expect(accepted.filter((name) => !documented.has(name)), 'config variables missing from the README table').toEqual([]);
    // Rows may name the app's own variables (the handlers' webhook URLs, the workflow's timeouts, the provider), read outside configSchema.
    const appVariables = new Set([
      'VALIDATE_ORDER_URL',
      'CHARGE_PAYMENT_URL',
      'ASSIGN_DRIVER_URL',
      'DECLINE_UNANSWERED_URL',
      'REFUND_PAYMENT_URL',
      'ORDER_APPROVAL_TIMEOUT_SEC',
      'DRIVER_ASSIGNMENT_TIMEOUT_SEC',
      'PAYMENT_PROVIDER_URL',
    ]);
    expect([...documented].filter((name) => !accepted.includes(name) && !appVariables.has(name)), 'README rows for variables the config does not read').toEqual([]);
  });

  it("points to a Procfile whose processes run the CLI's commands on node itself, not through npm", async () => {
    expect(readme).toContain('(Procfile)');
    const procfile = readFileSync(new URL('../../Procfile', import.meta.url), 'utf8').trim().split('\n');
    const processes = Object.fromEntries(procfile.map((line) => line.split(/:\s+/, 2) as [string, string]));
    expect(Object.keys(processes).sort()).toEqual(['dispatch', 'handlers', 'release', 'web']);
    for (const command of Object.values(processes)) {
      expect(command).toMatch(/^node dist\/cli\/main\.js (start|dispatch|handlers|migrate)$/);
    }
  });
});
