/**
 * What a scenario gets to work with: a fresh migrated database, a per-run
 * JWT secret, the run's timing knobs, a scratch directory, progress output,
 * report notes, and the real API in a child process. Everything a scenario
 * starts through the context is stopped when it ends, failed or not.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../src/engine/log.js';
import { startApiProcess, type ApiProcess } from './apiProcess.js';
import { waitForQuiet, type Quiet } from './cpu.js';
import { BENCH_DATA_DIR } from './database.js';
import type { Metric } from './report.js';

export interface BenchContext {
  scenario: string;
  /** A fresh, migrated, empty database for this scenario; dropped after it. */
  databaseUrl: string;
  /** Random per run; API processes from `startApi` verify tokens minted with it (`mintToken`). */
  jwtSecret: string;
  /** Measured time per side (BENCH_DURATION_S, default 15). */
  durationMs: number;
  /** Unmeasured time before each measured window (BENCH_WARMUP_S, default 5). */
  warmupMs: number;
  /** How many times each side is measured; report the median (BENCH_ROUNDS, default 3). */
  rounds: number;
  /** Scratch directory, removed after the scenario. */
  tmpDir: string;
  /**
   * Set when BENCH_CPU_PROF=1: a directory (kept) for CPU profiles. Scenarios
   * profile the API over one measured window with `api.startProfile()` /
   * `api.stopProfile(path.join(ctx.profileDir, '….cpuprofile'))`.
   */
  profileDir?: string;
  log: Logger;
  /** One progress line on stderr: runs are long. */
  progress(message: string): void;
  /** A top-level note in the report (per-round figures, diagnostics). */
  note(key: string, value: unknown): void;
  /**
   * One side's full configuration (ours, each baseline, and the workload
   * both share), recorded in the record's stamp under `side`: everything a
   * skeptic needs to check that the comparison is fair. Every scenario
   * records at least its own side and one baseline.
   */
  configure(side: string, configuration: Record<string, unknown>): void;
  /** The real API (createApi on its own pool, production config) in a child process on this scenario's database. */
  startApi(opts?: { env?: Record<string, string> }): Promise<ApiProcess>;
  /**
   * Before a measured side: wait (up to BENCH_QUIET_WAIT_S, default 120) for
   * a second with under BENCH_QUIET_CORES (default 0.3) cores busy on the
   * machine, and return the load seen. Record it: a side measured while
   * something else ran is not comparable.
   */
  quiet(): Promise<Quiet>;
  /** What `quiet()` calls idle, in cores (BENCH_QUIET_CORES): also the bar for "something else ran during a side". */
  quietCores: number;
  /** Run `fn` when the scenario ends (last registered runs first). */
  defer(fn: () => Promise<void>): void;
}

export interface Scenario {
  /** One line, shown by `npm run bench` without arguments. */
  description: string;
  default: (ctx: BenchContext) => Promise<Metric[]>;
}

export interface OwnedContext extends BenchContext {
  notes: Record<string, unknown>;
  configuration: Record<string, unknown>;
  /** Stop everything the scenario started and remove its scratch files. */
  close(): Promise<void>;
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

export async function createContext(scenario: string, databaseUrl: string, log: Logger): Promise<OwnedContext> {
  const started = Date.now();
  const tmpDir = path.resolve(BENCH_DATA_DIR, 'tmp', `${scenario}-${process.pid}`);
  await mkdir(tmpDir, { recursive: true });
  const profileDir = process.env.BENCH_CPU_PROF ? path.resolve(BENCH_DATA_DIR, 'profiles', `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const deferred: Array<() => Promise<void>> = [];
  const notes: Record<string, unknown> = {};
  const configuration: Record<string, unknown> = {};
  let apis = 0;

  const ctx: OwnedContext = {
    scenario,
    databaseUrl,
    jwtSecret: randomBytes(32).toString('hex'),
    durationMs: positiveNumber('BENCH_DURATION_S', 15) * 1000,
    warmupMs: positiveNumber('BENCH_WARMUP_S', 5) * 1000,
    rounds: Math.round(positiveNumber('BENCH_ROUNDS', 3)),
    tmpDir,
    profileDir,
    log,
    notes,
    configuration,
    progress: (message) => process.stderr.write(`[${scenario} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`),
    note: (key, value) => void (notes[key] = value),
    configure: (side, value) => {
      if (Object.hasOwn(configuration, side)) throw new Error(`configuration of "${side}" recorded twice`);
      configuration[side] = value;
    },
    defer: (fn) => void deferred.push(fn),
    quietCores: positiveNumber('BENCH_QUIET_CORES', 0.3),
    async quiet() {
      let said = false;
      const quiet = await waitForQuiet({
        maxCores: ctx.quietCores,
        timeoutMs: positiveNumber('BENCH_QUIET_WAIT_S', 120) * 1000,
        onWait: (cores) => {
          if (!said) ctx.progress(`waiting for the machine to be quiet (${cores.toFixed(2)} cores busy elsewhere) …`);
          said = true;
        },
      });
      if (said) ctx.progress(`… waited ${(quiet.waitedMs / 1000).toFixed(0)} s; background load now ${quiet.backgroundCores.toFixed(2)} cores`);
      return quiet;
    },
    async startApi(opts = {}) {
      const api = await startApiProcess({
        databaseUrl,
        jwtSecret: ctx.jwtSecret,
        env: opts.env,
        logFile: path.join(tmpDir, `api-${++apis}.log`),
      });
      let stopped = false;
      deferred.push(async () => {
        if (!stopped) await api.stop().catch(() => api.kill());
      });
      return {
        ...api,
        stop: async () => {
          stopped = true;
          await api.stop();
        },
      };
    },
    async close() {
      for (const fn of deferred.splice(0).reverse()) {
        await fn().catch((err: unknown) => log.warn({ err }, 'benchmark cleanup failed'));
      }
      if (!process.env.BENCH_KEEP_TMP) await rm(tmpDir, { recursive: true, force: true });
    },
  };
  return ctx;
}
