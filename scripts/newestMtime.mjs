/**
 * The newest modification time (ms) of the files under some paths, for the
 * build scripts' `--if-stale` (buildDemo.mjs, buildServer.mjs): a build is
 * stale when a source is newer than what it wrote. Paths that do not exist
 * are skipped. Plain Node, no dependencies (it runs on production installs).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) if (existsSync(p)) visit(p);
  return newest;
}
