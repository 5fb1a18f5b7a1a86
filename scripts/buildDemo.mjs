#!/usr/bin/env node
/**
 * Builds the web demo (web-demo/ → web-demo/dist/) with Vite: `npm install`'s
 * `prepare` step, and `npm run demo:build`.
 *
 * npm runs `prepare` on a production install too (`--omit=dev`), where Vite,
 * a dev dependency, is absent: then this says so and exits 0, so the install
 * succeeds, and `start` serves a page saying the demo is not built. Plain
 * Node, no dependencies, for the same reason.
 *
 *   --if-stale  build only when dist/ is missing or older than a source file
 *               (what tests use: a fresh checkout builds once)
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestMtime } from './newestMtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, 'web-demo');
const built = path.join(demo, 'dist', 'index.html');

function vitePath() {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('vite');
  } catch {
    return undefined;
  }
}

/** The newest mtime under the demo's sources (index.html, vite.config.ts, src/). */
const newestSource = () => newestMtime(['index.html', 'vite.config.ts', 'src'].map((name) => path.join(demo, name)));

const vite = vitePath();
if (!vite) {
  console.log('web demo not built: Vite is not installed (a production install without dev dependencies). `npm start` serves the API and says at /demo/ that the demo is not built; install the dev dependencies and run `npm run demo:build` to build it.');
  process.exit(0);
}
if (process.argv.includes('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= newestSource()) process.exit(0);

const { build } = await import(vite);
await build({ configFile: path.join(demo, 'vite.config.ts'), logLevel: 'warn' });
console.log(`web demo built: ${path.relative(root, path.dirname(built))}/`);
