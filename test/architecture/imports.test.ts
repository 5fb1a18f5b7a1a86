/**
 * The one-way doors between engine, apps and kit (.dependency-cruiser.cjs,
 * docs/architecture.md): dependency-cruiser resolves every import of src/
 * and none may point the wrong way. The rules are also run over a small tree
 * of wrong-way imports, so a rule that stopped matching would fail here too.
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

async function violations(baseDir: string): Promise<string[]> {
  const options = await extractDepcruiseOptions(CONFIG);
  const result = await cruise(['src'], { ...options, baseDir, validate: true, tsConfig: { fileName: path.join(ROOT, 'tsconfig.json') } });
  const output = result.output as ICruiseResult;
  return (output.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe('imports between the engine, the apps and the kit', () => {
  it('all point the allowed way', async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 60_000);

  it('the second app (test/fixtures/apps/tasks) uses only the engine\'s public API and the kit, and no food-delivery code', async () => {
    const options = await extractDepcruiseOptions(CONFIG);
    const result = await cruise(['test/fixtures/apps/tasks'], { ...options, baseDir: ROOT, tsConfig: { fileName: path.join(ROOT, 'tsconfig.json') } });
    const output = result.output as ICruiseResult;
    const fromApp = output.modules.filter((m) => m.source.startsWith('test/fixtures/apps/tasks/'));
    expect(fromApp.length).toBeGreaterThan(4);
    const intoSrc = new Set(fromApp.flatMap((m) => m.dependencies.map((d) => d.resolved)).filter((r) => r.startsWith('src/')));
    expect([...intoSrc].sort()).toEqual(['src/engine/index.ts', 'src/kit/index.ts', 'src/kit/node.ts']);
    // Nothing it loads, directly or not, is food-delivery code.
    expect(output.modules.filter((m) => m.source.startsWith('src/apps/'))).toEqual([]);
  }, 60_000);

  it('a wrong-way import of each kind is caught', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'threefactor-imports-'));
    try {
      const file = async (name: string, text: string) => {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), text);
      };
      await file('src/engine/index.ts', "export const api = 1;\n");
      await file('src/engine/internal.ts', "import { order } from '../apps/shop/order.js';\nimport { serve } from '../kit/server.js';\nexport const x = [order, serve];\n");
      await file('src/kit/contract.ts', "export const HEADER = 'x';\n");
      await file('src/kit/server.ts', "import { api } from '../engine/index.js';\nexport const serve = api;\n");
      // The kit on the OpenTelemetry API is fine; an SDK in it is not (its host registers one).
      await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      await file('src/kit/spans.ts', "import { trace } from '@opentelemetry/api';\nimport { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';\nexport const spans = [trace, NodeTracerProvider];\n");
      await file('src/apps/shop/order.ts', "import { x } from '../../engine/internal.js';\nimport { api } from '../../engine/index.js';\nexport const order = [x, api];\n");
      await file('src/cli/main.ts', "import { order } from '../apps/shop/order.js';\nexport default order;\n");
      // node_modules is reached through the symlink: name it as the real tree would.
      const found = (await violations(dir)).map((v) => v.replace(/→ .*?node_modules\//, '→ node_modules/'));
      expect(found.sort()).toEqual(
        [
          'apps-to-engine-public-api-only: src/apps/shop/order.ts → src/engine/internal.ts',
          'engine-not-to-apps-or-cli: src/engine/internal.ts → src/apps/shop/order.ts',
          'engine-to-kit-contract-only: src/engine/internal.ts → src/kit/server.ts',
          'kit-imports-nothing-of-ours: src/kit/server.ts → src/engine/index.ts',
          'kit-otel-api-only: src/kit/spans.ts → node_modules/@opentelemetry/sdk-trace-node/build/src/index.js',
        ].sort(),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
