/**
 * The stamp every benchmark record carries, built here and nowhere else:
 * the code measured (commit, dirty flag), Node, the PostgreSQL server the
 * scenario's database lives on (its own server_version), the machine, the
 * harness knobs of the run, and each side's configuration as the scenario
 * recorded it. A record without it cannot be reproduced or compared.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Stamp {
  /** HEAD when the run started, and whether tracked files other than the records differed from it. */
  commit: { sha: string; dirty: boolean };
  node: string;
  postgres: {
    /** `server_version` of the server the scenario's database is on. */
    serverVersion: string;
    serverVersionNum: number;
    /** Which server that was (never a password). */
    server: string;
  };
  machine: { cores: number; cpuModel: string; memoryGiB: number; platform: string };
  /** The knobs of this run: timing and every BENCH_* variable that was set. */
  harness: { durationS: number; warmupS: number; rounds: number; quietCores: number; env: Record<string, string> };
  /** Each side's full configuration, by side name (`BenchContext.configure`). */
  configuration: Record<string, unknown>;
}

/** The commit a record measures; `dirty` when tracked files other than the records themselves differ from it. */
export function commitStamp(): Stamp['commit'] {
  // From the repository's root: pathspecs are relative to the working directory, and from bench/ '.' left out
  // src/ and the exclusion named bench/bench/results, so an earlier record alone made a clean tree 'dirty'.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    return { sha: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results') !== '' };
  } catch {
    return { sha: 'unknown', dirty: true };
  }
}

export function machineStamp(): Stamp['machine'] {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** `server_version` of the server behind `url`, asked of the server itself. */
export async function postgresVersion(url: string): Promise<{ serverVersion: string; serverVersionNum: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string; n: string }[]>`select current_setting('server_version') as v, current_setting('server_version_num') as n`;
    return { serverVersion: row!.v, serverVersionNum: Number(row!.n) };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** BENCH_* variables (and the pool size passed through to the API) as set for this run: how to run it again. */
export function harnessEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[1] !== undefined && (e[0].startsWith('BENCH_') || e[0] === 'DATABASE_POOL_MAX' || e[0] === 'PGBENCH'))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export interface StampInput {
  /** Read with commitStamp() before the run: the record names the code that was measured. */
  commit: Stamp['commit'];
  /** The scenario's database (its server is asked for its version). */
  databaseUrl: string;
  server: string;
  timing: { durationMs: number; warmupMs: number; rounds: number; quietCores: number };
  configuration: Record<string, unknown>;
}

export async function stamp(input: StampInput): Promise<Stamp> {
  return {
    commit: input.commit,
    node: process.version,
    postgres: { ...(await postgresVersion(input.databaseUrl)), server: input.server },
    machine: machineStamp(),
    harness: {
      durationS: input.timing.durationMs / 1000,
      warmupS: input.timing.warmupMs / 1000,
      rounds: input.timing.rounds,
      quietCores: input.timing.quietCores,
      env: harnessEnv(),
    },
    configuration: input.configuration,
  };
}
