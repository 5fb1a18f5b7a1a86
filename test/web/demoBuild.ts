/**
 * The built demo for tests that serve it: builds web-demo/dist/ when it is
 * missing or older than its sources (scripts/buildDemo.mjs --if-stale, the
 * same step `npm install` and `npm test`'s pretest run), once at a time
 * across test files (a lock directory), since Vite empties dist/ first.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LOCK = path.join(ROOT, 'web-demo/.build-lock');
const STALE_LOCK_MS = 120_000;

async function locked<T>(work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another file builds; a lock left by a killed run is taken over after a while.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmdirSync(LOCK);
  }
}

export function ensureDemoBuilt(): Promise<void> {
  return locked(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['scripts/buildDemo.mjs', '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 && !out.includes('not built') ? resolve() : reject(new Error(`web demo build failed (${code}): ${out}`))));
      }),
  );
}
