/**
 * The demo's build stays inside `npm install` and `npm start`, and its
 * generated types stay current:
 * - graphql-codegen's output (web-demo/src/gql/, the handlers' gql/) and the
 *   trusted-documents manifest match schema/schema.graphql and the
 *   documents: a stale one fails here (codegen's --check, in a child process);
 * - the `prepare` script, run where Vite cannot be resolved (a production
 *   install, --omit=dev), says so and exits 0, so the install succeeds;
 * - without a build, /demo/ answers a page that says so, and `start` logs it.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createDemoRoutes, DEMO_NOT_BUILT } from '../../src/apps/food-delivery/demo/routes.js';
import { testConfig } from '../support/api.js';
import { runToExit } from '../support/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const run = (command: string, args: string[], cwd = ROOT) => runToExit(command, args, { cwd });

describe('generated GraphQL types', () => {
  it('are current: graphql-codegen --check finds nothing stale', async () => {
    const { code, out } = await run(process.execPath, [path.join(ROOT, 'node_modules/@graphql-codegen/cli/cjs/bin.js'), '--config', 'codegen.ts', '--check']);
    expect(code, out).toBe(0);
  }, 60_000);

  it('and so is the trusted-documents manifest collected from them', async () => {
    const { code, out } = await run(process.execPath, ['scripts/trustedDocuments.mjs', '--check']);
    expect(code, out).toBe(0);
  });
});

describe('the prepare step on a production install', () => {
  it('succeeds without Vite, says the demo is not built, and builds nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prod-install-'));
    try {
      // The package as an --omit=dev install lays it out: the script and the demo's sources, no Vite to resolve.
      mkdirSync(path.join(dir, 'scripts'));
      mkdirSync(path.join(dir, 'web-demo'));
      for (const script of ['buildDemo.mjs', 'newestMtime.mjs']) copyFileSync(path.join(ROOT, 'scripts', script), path.join(dir, 'scripts', script));
      copyFileSync(path.join(ROOT, 'web-demo/index.html'), path.join(dir, 'web-demo/index.html'));
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'threefactor', type: 'module' }));
      const { code, out } = await run(process.execPath, ['scripts/buildDemo.mjs'], dir);
      expect(code, out).toBe(0);
      expect(out).toContain('web demo not built: Vite is not installed');
      expect(existsSync(path.join(dir, 'web-demo/dist'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('then `start` logs that no demo is built, and /demo/ answers a page saying so (503)', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'no-dist-'));
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    const route = createDemoRoutes(testConfig(), log, { dist: empty })!;
    const server: Server = createServer((req, res) => {
      if (!route(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain(DEMO_NOT_BUILT);
      const { port } = server.address() as { port: number };
      const page = await fetch(`http://127.0.0.1:${port}/demo/`);
      expect(page.status).toBe(503);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('The web demo is not built');
      // The token route does not depend on the build.
      expect((await fetch(`http://127.0.0.1:${port}/demo/tokens`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/demo/assets/index-x.js`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
