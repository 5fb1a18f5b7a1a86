/**
 * `node --import tsx bench/profile.ts <file.cpuprofile> [top]`: where a V8
 * CPU profile (BENCH_CPU_PROF=1) spent its time, as self time per package
 * (node_modules/<pkg>, our src/ folders, node internals, GC, idle), the
 * same with native and node-internal time charged to the package that called
 * it (a socket write made by postgres.js counts as postgres), and the top
 * functions, so a benchmark shortfall can be named without a browser.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function bucket(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = url.match(/\/(src|bench|test)\/(.+?)\/?[^/]*$/);
  if (own) return `${own[1]}/${own[2]}`;
  return url;
}

function table(title: string, totals: Map<string, number>, all: number, top: number): string {
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [title, ...rows.map(([name, us]) => `${((us / all) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)].join('\n');
}

async function main(): Promise<void> {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/profile.ts <file.cpuprofile> [top]\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isOwner = (b: string) => !b.startsWith('(') && !b.startsWith('node:');
  const owners = new Map<number, string>();
  /** The nearest frame (itself or a caller) that belongs to a package or our code. */
  const owner = (id: number): string => {
    const known = owners.get(id);
    if (known) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    const b = bucket(url, functionName);
    const up = parent.get(id);
    const result = isOwner(b) || up === undefined || byId.get(up)!.callFrame.functionName === '(root)' ? b : owner(up);
    owners.set(id, result);
    return result;
  };
  const byOwner = new Map<string, number>();

  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let all = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const b = bucket(url, functionName);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    const o = owner(id);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    all += us;
    if (functionName !== '(idle)') busy += us;
  }
  process.stdout.write(
    `${file}: ${(all / 1e6).toFixed(1)} s sampled, ${((busy / all) * 100).toFixed(0)}% not idle\n\n` +
      `${table('self time by package/folder', byBucket, all, top)}\n\n` +
      `${table('self time charged to the calling package (native and node: time goes to whoever called it)', byOwner, all, top)}\n\n` +
      `${table('self time by function', byFunction, all, top)}\n`,
  );
}

await main();
