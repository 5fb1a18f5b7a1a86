/**
 * The domain's rules are plain code: no module under domain/ imports
 * GraphQL (graphql, Pothos, yoga) or the app's GraphQL edge, so they run,
 * and refuse, the same whoever calls them. The edge maps their errors once
 * (graphql/errors.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DOMAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/apps/food-delivery/domain');
const GRAPHQL_IMPORT = /^(graphql|graphql-yoga|graphql-ws|@pothos\/.*|@envelop\/.*)$|\/graphql\//;

describe('src/apps/food-delivery/domain', () => {
  it('imports nothing of GraphQL', async () => {
    const files = (await readdir(DOMAIN)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const offending: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(DOMAIN, file), 'utf8');
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\b(?:[^'"]*?from\s+)?'([^']+)'/gm)) {
        if (GRAPHQL_IMPORT.test(spec!)) offending.push(`${file} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
