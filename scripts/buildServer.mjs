#!/usr/bin/env node
/**
 * Compiles the server (src/ → dist/, tsconfig.build.json) with tsc: what the
 * commands run (`npm start`, the Procfile), so a process loads plain
 * JavaScript instead of transforming TypeScript at every start (start →
 * /readyz 797 ms compiled in bench/results/coldstart.json, 1,526 ms through
 * tsx in a run just before). `npm install`'s
 * `prepare` step builds it, and so does `npm run build`; tests and `npm run
 * dev` run the sources through tsx and need no build.
 *
 * dist/ keeps src/'s layout, so files found relative to a module (drizzle/,
 * schema/, web-demo/dist/) are found from either. A type error fails the
 * build and leaves dist/ as it was (noEmitOnError; a full build compiles
 * into a directory beside it and swaps it in only once tsc succeeded), so a
 * broken tree never replaces a working dist/. Plain Node, no dependencies
 * but typescript itself.
 *
 *   --if-stale  build (incrementally) only when dist/ is missing or older
 *               than a source file or a tsconfig (what `npm start`, the tests
 *               and the benchmarks use); without it dist/ is built afresh,
 *               so no output of a deleted source survives
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestMtime } from './newestMtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
// Written after every successful build: tsc leaves its own .tsbuildinfo untouched when nothing it emits changed,
// so a source saved unchanged would otherwise look newer than the build at every start.
const stamp = path.join(dist, '.built');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((name) => path.join(root, name));

const ifStale = process.argv.includes('--if-stale');
if (ifStale && existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(inputs)) process.exit(0);

let tsc;
try {
  tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('server not built: typescript is not installed (run `npm install`)');
  process.exit(1);
}
// Incremental builds write dist/ in place (noEmitOnError keeps it whole on failure); a full one writes beside it.
const out = ifStale ? dist : path.join(root, 'dist.building');
rmSync(path.join(root, 'dist.building'), { recursive: true, force: true });
const started = Date.now();
console.error(`building the server: src/ → dist/ (tsc -p tsconfig.build.json${ifStale ? ', incremental' : ''}) …`);
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out, '--tsBuildInfoFile', path.join(out, '.tsbuildinfo')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  if (out !== dist) rmSync(out, { recursive: true, force: true });
  console.error('server not built: tsc failed (above); dist/ is unchanged');
  process.exit(result.status ?? 1);
}
if (out !== dist) {
  rmSync(dist, { recursive: true, force: true });
  renameSync(out, dist);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.error(`server built: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
