/**
 * What a scenario reports and how it is recorded: metrics, each against a
 * baseline measured in the same run, written to bench/results/<scenario>.json
 * (committed: the results are the record) and printed as a table.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Stamp } from './stamp.js';
import { round } from './stats.js';

/** Where records go: bench/results (committed), or BENCH_RESULTS_DIR for a smoke run that must not overwrite them. */
export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results');

export function resultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_RESULTS_DIR ? path.resolve(env.BENCH_RESULTS_DIR) : RESULTS_DIR;
}

/** Which way is good for a metric: throughput up, latency, memory and CPU down. */
export type Better = 'higher' | 'lower';
export type Verdict = 'parity' | 'better' | 'worse';

/** A ratio within this factor either way is parity: these machines are too noisy to call a smaller difference. */
export const PARITY_BAND = 1.1;

/** Stated once in every record's notes (`notes.rules`), so a reader needs nothing else to read the figures. */
export const RECORD_RULES = {
  statistics:
    'latency: each round is summarised on its own (nearest-rank p50 and p99 over that round\'s samples); the figure is the median over rounds of the rounds\' p50s, and of their p99s. Throughput: the median over rounds. Per-round figures are in the notes.',
  ratio: 'ratio = value / baseline.value, the baseline measured in the same run on the same machine',
  verdict: `parity when the ratio is within ${PARITY_BAND}x either way (1/${PARITY_BAND} <= ratio <= ${PARITY_BAND}); otherwise better or worse by the metric's direction (better: 'higher' for throughput, 'lower' for latency, memory and CPU)`,
  counts:
    'a count of losses (deliveries missing) is compared with its baseline count as max(value, 1) / max(baseline, 1): 0 against 0 is 1 (parity), n against 0 is n, so a ratio exists whatever the counts',
  goal: "a metric with a goal (issue 14's bars) says what the bar is and whether this run met it; the verdict compares with the baseline, the goal with the bar",
} as const;

export interface Metric {
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  /** value / baseline.value */
  ratio: number;
  better: Better;
  /** RECORD_RULES.verdict applied to the ratio. */
  verdict: Verdict;
  /** The bar this figure is held to (RECORD_RULES.goal), and whether this run met it. */
  goal?: Goal;
}

export interface Goal {
  /** The bar in words, e.g. "ratio <= 1.5" or "<= 50 ms". */
  bar: string;
  met: boolean;
}

/** A goal on the ratio against the baseline, e.g. "the API's CPU at most 1.5x plain ws'". */
export function ratioGoal(max: number): (m: Metric) => Goal {
  return (m) => ({ bar: `ratio <= ${max}`, met: m.ratio <= max });
}

/** A goal on the value itself in the metric's unit, e.g. "p99 at most 50 ms" (`min` for higher-is-better bars). */
export function valueGoal(bar: { max: number } | { min: number }): (m: Metric) => Goal {
  return (m) =>
    'max' in bar ? { bar: `<= ${bar.max} ${m.unit}`, met: m.value <= bar.max } : { bar: `>= ${bar.min} ${m.unit}`, met: m.value >= bar.min };
}

/** Throughput units end in "/s"; the usual lower-is-better units are known; any other unit must say which way is better. */
function directionOf(unit: string): Better | undefined {
  if (unit.endsWith('/s')) return 'higher';
  if (['ms', 's', 'us', 'KB', 'KiB', 'MB', 'MiB', 'B', 'bytes', 'cores'].includes(unit)) return 'lower';
  return undefined;
}

export function verdictOf(ratio: number, better: Better): Verdict {
  if (ratio >= 1 / PARITY_BAND && ratio <= PARITY_BAND) return 'parity';
  return (ratio > 1) === (better === 'higher') ? 'better' : 'worse';
}

/** A metric with its ratio and verdict against a baseline from the same run. */
export function metric(
  name: string,
  value: number,
  unit: string,
  baseline: { name: string; value: number },
  opts: { better?: Better; goal?: (m: Metric) => Goal; count?: boolean } = {},
): Metric {
  const better = opts.better ?? directionOf(unit);
  if (!better) throw new Error(`metric "${name}": say whether a higher or a lower ${unit} is better ({ better })`);
  // Counts of losses are often 0 on both sides: RECORD_RULES.counts gives them a ratio all the same.
  const ratio = opts.count ? Math.max(value, 1) / Math.max(baseline.value, 1) : value / baseline.value;
  const m: Metric = {
    name,
    value: round(value),
    unit,
    baseline: { name: baseline.name, value: round(baseline.value) },
    ratio: round(ratio, 3),
    better,
    verdict: verdictOf(ratio, better),
  };
  if (opts.goal) m.goal = opts.goal({ ...m, ratio, value });
  return m;
}

export interface Report {
  scenario: string;
  /** What was measured, where and how (bench/lib/stamp.ts): commit, dirty flag, Node, PostgreSQL, machine, each side's configuration. */
  stamp: Stamp;
  metrics: Metric[];
  startedAt: string;
  finishedAt: string;
  /** RECORD_RULES under `rules`, then the scenario's own notes. */
  notes: Record<string, unknown>;
}

/** Write atomically (temp file + rename), so an interrupted run never leaves half a record. */
export async function writeReport(report: Report, dir = resultsDir()): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.scenario}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, file);
  return file;
}

export function formatTable(scenario: string, metrics: readonly Metric[]): string {
  const goal = (m: Metric) => (m.goal ? `${m.goal.met ? 'met' : 'NOT met'} (${m.goal.bar})` : '');
  const rows = metrics.map((m) => [m.name, `${m.value} ${m.unit}`, m.baseline.name, `${m.baseline.value} ${m.unit}`, `${m.ratio}×`, m.verdict, goal(m)]);
  const header = ['metric', 'value', 'baseline', 'baseline value', 'ratio', 'verdict', 'goal'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 2 || i >= 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`== ${scenario}`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
