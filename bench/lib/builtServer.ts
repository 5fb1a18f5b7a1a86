/**
 * The compiled server the benchmarks start, as the Procfile starts it
 * (`node dist/cli/main.js <command>`, no TypeScript loader). `run.ts` builds
 * it before any scenario when it is missing or older than its sources
 * (scripts/buildServer.mjs --if-stale), so a record never measures a stale
 * dist/.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The compiled CLI's entry point. */
export const BUILT_CLI = path.join(ROOT, 'dist/cli/main.js');

/** Builds dist/ if it is stale; the build's progress goes to stderr. Throws if tsc fails. */
export function ensureServerBuilt(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/buildServer.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}
