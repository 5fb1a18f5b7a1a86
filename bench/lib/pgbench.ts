/**
 * pgbench as a baseline: the same SQL our code runs, driven by PostgreSQL's
 * own C client, so a scenario can say how close the full stack comes to the
 * database's own limit on this machine in this run. Latencies come from
 * pgbench's per-transaction log (-l), not its averages.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { processCpuUs } from './serverCpu.js';
import { summarize, type LatencySummary } from './stats.js';

export interface PgbenchOptions {
  url: string;
  /** Path of a pgbench script (-f). */
  script: string;
  clients: number;
  threads: number;
  durationS: number;
  /** postgres.js uses named prepared statements, so 'prepared' matches it. */
  protocol: 'simple' | 'extended' | 'prepared';
  /** Where pgbench writes its transaction logs (removed after). */
  tmpDir: string;
  /** -D name=value, available as :name in the script. */
  define?: Record<string, string | number>;
  /** Skip the per-transaction log (e.g. for a warmup). */
  noLog?: boolean;
}

export interface PgbenchResult {
  tps: number;
  /** CPU time of the pgbench process itself, µs (Linux; sampled every 100 ms, so slightly low); NaN elsewhere. */
  clientCpuUs: number;
  transactions: number;
  failed: number;
  latencyMs: LatencySummary;
  samplesMs: Float64Array;
}

const PGBENCH = process.env.PGBENCH ?? 'pgbench';

function pgEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return {
    ...process.env,
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username) || 'postgres',
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
    PGAPPNAME: 'threefactor-bench-pgbench',
  };
}

export async function runPgbench(opts: PgbenchOptions): Promise<PgbenchResult> {
  const prefix = path.join(opts.tmpDir, `pgbench-${Date.now()}`);
  const args = [
    '--no-vacuum',
    `--client=${opts.clients}`,
    `--jobs=${opts.threads}`,
    `--time=${opts.durationS}`,
    `--protocol=${opts.protocol}`,
    `--file=${opts.script}`,
    ...Object.entries(opts.define ?? {}).map(([k, v]) => `--define=${k}=${v}`),
    ...(opts.noLog ? [] : ['--log', `--log-prefix=${prefix}`]),
  ];
  let clientCpuUs = Number.NaN;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const proc = spawn(PGBENCH, args, { env: pgEnv(opts.url), stdio: ['ignore', 'pipe', 'pipe'] });
    const poll = setInterval(() => {
      void processCpuUs(proc.pid).then((us) => {
        if (Number.isFinite(us)) clientCpuUs = us;
      });
    }, 100);
    proc.on('close', () => clearInterval(poll));
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('error', (e) => reject(new Error(`cannot run ${PGBENCH} (install postgresql-client or set PGBENCH): ${e.message}`)));
    proc.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  if (code !== 0) throw new Error(`pgbench exited with ${code}:\n${stderr.trim()}\n${stdout.trim()}`);

  const num = (re: RegExp) => {
    const m = stdout.match(re);
    if (!m) throw new Error(`pgbench output lacks ${re}:\n${stdout}`);
    return Number(m[1]);
  };
  const tps = num(/^tps = ([\d.]+) \(without initial connection time\)/m);
  const transactions = num(/^number of transactions actually processed: (\d+)/m);
  const failedMatch = stdout.match(/^number of failed transactions: (\d+)/m);
  const samplesMs = opts.noLog ? new Float64Array(0) : await readLogs(prefix);
  return { tps, clientCpuUs, transactions, failed: failedMatch ? Number(failedMatch[1]) : 0, latencyMs: summarize(samplesMs), samplesMs };
}

/** Per-transaction logs: "client_id transaction_no time_us script_no epoch epoch_us" per line. */
async function readLogs(prefix: string): Promise<Float64Array> {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${base}.`));
  const samples: number[] = [];
  for (const file of files) {
    const full = path.join(dir, file);
    for (const line of (await readFile(full, 'utf8')).split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 6) samples.push(Number(fields[2]) / 1000);
    }
    await rm(full);
  }
  return Float64Array.from(samples);
}
