/**
 * CPU accounting for benchmark processes: cumulative CPU time and wall time,
 * so a parent can tell how busy a child was over a measured window (a server
 * at 100% of one core is bound by its own event loop, not by PostgreSQL).
 */

export interface CpuSample {
  /** user + system CPU time, microseconds */
  cpuUs: number;
  /** monotonic wall clock, microseconds */
  wallUs: number;
}

export function cpuSample(): CpuSample {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, wallUs: Number(process.hrtime.bigint() / 1000n) };
}

/** Share of one core used between two samples (1 = one core fully busy). */
export function coresUsed(from: CpuSample, to: CpuSample): number {
  const wall = to.wallUs - from.wallUs;
  return wall > 0 ? (to.cpuUs - from.cpuUs) / wall : Number.NaN;
}

export interface MachineSample {
  busy: number;
  total: number;
}

/** Whole-machine CPU counters from /proc/stat (Linux); undefined elsewhere. */
export async function machineSample(): Promise<MachineSample | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Cores busy machine-wide between two samples (2 = both cores of a 2-core machine). */
export function machineCoresBusy(from: MachineSample | undefined, to: MachineSample | undefined, cores: number): number {
  if (!from || !to || to.total === from.total) return Number.NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * cores;
}

export interface Quiet {
  /** Cores busy machine-wide in the last second before returning. */
  backgroundCores: number;
  waitedMs: number;
}

/**
 * Wait (up to timeoutMs) for a second in which the machine is nearly idle,
 * so a measurement does not start while other work (a test suite, a build)
 * holds the cores. Returns the background load it last saw either way.
 */
export async function waitForQuiet(opts: { maxCores: number; timeoutMs: number; onWait?: (cores: number) => void }): Promise<Quiet> {
  const started = Date.now();
  const cores = (await import('node:os')).cpus().length;
  for (;;) {
    const from = await machineSample();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = machineCoresBusy(from, await machineSample(), cores);
    const waitedMs = Date.now() - started;
    if (!(busy > opts.maxCores) || waitedMs >= opts.timeoutMs) return { backgroundCores: busy, waitedMs };
    opts.onWait?.(busy);
  }
}
