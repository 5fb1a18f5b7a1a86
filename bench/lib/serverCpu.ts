/**
 * CPU time of a local PostgreSQL server (Linux /proc): the postmaster's own
 * and reaped children's time plus every live child's, so backends that come
 * and go during a window (pgbench's connections) are all counted. Lets a
 * scenario say how much database CPU each transaction cost on each side.
 * Also the CPU time of any one process (e.g. pgbench, a child we spawned).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { Sql } from '../../src/engine/db/client.js';

export interface ServerCpu {
  /** Cumulative CPU microseconds of the server; NaN when it cannot be read (remote server, not Linux). */
  sample(): Promise<number>;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** Fields after the "(comm)" of /proc/<pid>/stat, numbered as in proc(5) from 3. */
async function statFields(pid: number | string): Promise<string[] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a live process (Linux /proc), µs; NaN when it cannot be read. */
export async function processCpuUs(pid: number | undefined): Promise<number> {
  const f = pid ? await statFields(pid) : undefined;
  return f ? ((Number(f[11]) + Number(f[12])) / clockTicks()) * 1e6 : Number.NaN;
}

export async function serverCpu(sql: Sql): Promise<ServerCpu> {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const backend = await statFields(row!.pid);
  // proc(5) field 4 is ppid; the list starts at field 3.
  const postmaster = backend ? Number(backend[1]) : Number.NaN;
  if (!postmaster) return { sample: async () => Number.NaN };
  return {
    async sample() {
      const own = await statFields(postmaster);
      if (!own) return Number.NaN;
      // utime, stime, cutime, cstime are fields 14-17.
      let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const f = await statFields(entry);
        if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
      }
      return (ticks / clockTicks()) * 1e6;
    },
  };
}
