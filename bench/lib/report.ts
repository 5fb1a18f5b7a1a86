/**
 * What a scenario reports and how it is recorded: metrics, each against a
 * baseline measured in the same run, written to bench/results/<scenario>.json
 * (committed: the results are the record) and printed as a table.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results');

export interface Metric {
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  /** value / baseline.value */
  ratio: number;
}

/** A metric with its ratio against a baseline from the same run. */
export function metric(name: string, value: number, unit: string, baseline: { name: string; value: number }): Metric {
  return {
    name,
    value: round(value),
    unit,
    baseline: { name: baseline.name, value: round(baseline.value) },
    ratio: round(value / baseline.value, 3),
  };
}

export interface Report {
  scenario: string;
  /** The code measured: HEAD's commit, and whether the work tree had uncommitted changes. */
  commit: { sha: string; dirty: boolean };
  metrics: Metric[];
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; database: string };
  notes: Record<string, unknown>;
}

export function machineInfo(database: string): Report['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    database,
  };
}

/** The commit a record measures; `dirty` when tracked files other than the records themselves differ from it. */
export function commitStamp(): Report['commit'] {
  // From the repository's root: pathspecs are relative to the working directory, and from bench/ '.' left out
  // src/ and the exclusion named bench/bench/results, so an earlier record alone made a clean tree 'dirty'.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path.resolve(RESULTS_DIR, '../..'), encoding: 'utf8' }).trim();
  try {
    return { sha: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results') !== '' };
  } catch {
    return { sha: 'unknown', dirty: true };
  }
}

/** Write atomically (temp file + rename), so an interrupted run never leaves half a record. */
export async function writeReport(report: Report, dir = RESULTS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.scenario}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, file);
  return file;
}

export function formatTable(scenario: string, metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [m.name, `${m.value} ${m.unit}`, m.baseline.name, `${m.baseline.value} ${m.unit}`, `${m.ratio}×`]);
  const header = ['metric', 'value', 'baseline', 'baseline value', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`== ${scenario}`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
