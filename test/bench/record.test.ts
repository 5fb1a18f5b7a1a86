/**
 * The benchmark record's own rules (bench/lib): every record carries a full
 * stamp (commit, dirty flag, Node, the PostgreSQL server's own version, the
 * machine, each side's configuration), a latency figure is the median over
 * rounds of each round's p50 and p99, and a ratio within 1.1 either way is
 * parity. Against a real database and real measured samples.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinDeliveries } from '../../bench/lib/fanout/deliveries.js';
import { metric, PARITY_BAND, RECORD_RULES, verdictOf, writeReport, type Report } from '../../bench/lib/report.js';
import { commitStamp, stamp } from '../../bench/lib/stamp.js';
import { latencyOverRounds, median, percentile, summarize } from '../../bench/lib/stats.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

let db: TestDatabase | undefined;
let dir: string | undefined;

beforeAll(async () => {
  db = await freshDatabase({ max: 1 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'threefactor-bench-record-'));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Round trips of `select 1` on the test database, in ms: real latency samples. */
async function roundTrips(n: number): Promise<Float64Array> {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await db!.sql`select 1`;
    samples[i] = performance.now() - t0;
  }
  return samples;
}

describe('the stamp', () => {
  it('names the commit, the dirty flag, Node, the server version of the database used, the machine, the knobs and each side', async () => {
    const previous = process.env.BENCH_ROUNDS;
    process.env.BENCH_ROUNDS = '7';
    try {
      const configuration = { ours: { concurrency: 50 }, baseline: { concurrency: 50 } };
      const s = await stamp({
        commit: commitStamp(),
        databaseUrl: db!.url,
        server: 'the test server',
        timing: { durationMs: 15_000, warmupMs: 5_000, rounds: 7, quietCores: 0.3 },
        configuration,
      });
      const [row] = await db!.sql<{ v: string; n: string }[]>`select current_setting('server_version') as v, current_setting('server_version_num') as n`;
      const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results') !== '';

      expect(s.commit).toEqual({ sha: git('rev-parse', 'HEAD'), dirty });
      expect(s.commit.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(s.node).toBe(process.version);
      expect(s.postgres).toEqual({ serverVersion: row!.v, serverVersionNum: Number(row!.n), server: 'the test server' });
      expect(s.machine.cores).toBe(os.cpus().length);
      expect(s.machine.cpuModel).toBe(os.cpus()[0]!.model);
      expect(s.machine.memoryGiB).toBeGreaterThan(0);
      expect(s.machine.platform).toBe(`${os.platform()} ${os.release()}`);
      expect(s.harness).toMatchObject({ durationS: 15, warmupS: 5, rounds: 7, quietCores: 0.3 });
      expect(s.harness.env.BENCH_ROUNDS).toBe('7');
      expect(s.configuration).toEqual(configuration);
    } finally {
      if (previous === undefined) delete process.env.BENCH_ROUNDS;
      else process.env.BENCH_ROUNDS = previous;
    }
  });

  it('is written with the metrics and the rules into the directory given', async () => {
    const report: Report = {
      scenario: 'record-test',
      stamp: await stamp({
        commit: commitStamp(),
        databaseUrl: db!.url,
        server: 'the test server',
        timing: { durationMs: 1_000, warmupMs: 1_000, rounds: 1, quietCores: 0.3 },
        configuration: { ours: {}, baseline: {} },
      }),
      metrics: [metric('x p50', 2, 'ms', { name: 'y p50', value: 1 })],
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      notes: { rules: RECORD_RULES },
    };
    const file = await writeReport(report, dir);
    expect(file).toBe(path.join(dir!, 'record-test.json'));
    const read = JSON.parse(await readFile(file, 'utf8')) as Report;
    expect(Object.keys(read.stamp).sort()).toEqual(['commit', 'configuration', 'harness', 'machine', 'node', 'postgres']);
    expect(read.notes.rules).toEqual(RECORD_RULES);
    expect(read.metrics[0]).toMatchObject({ ratio: 2, better: 'lower', verdict: 'worse' });
  });
});

describe('the statistics rule', () => {
  it("takes the median over rounds of each round's p50 and p99, from real samples", async () => {
    const rounds = [await roundTrips(200), await roundTrips(200), await roundTrips(200)];
    const figure = latencyOverRounds(rounds);
    const perRound = rounds.map((r) => {
      const sorted = Float64Array.from(r).sort();
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    });
    expect(figure.p50).toBe(median(perRound.map((r) => r.p50)));
    expect(figure.p99).toBe(median(perRound.map((r) => r.p99)));
    expect(figure.rounds.map((r) => r.count)).toEqual([200, 200, 200]);
    expect(figure.rounds.map((r) => r.p99)).toEqual(perRound.map((r) => r.p99));
  });

  it('is not a percentile of the rounds pooled: one bad round does not set the p99', () => {
    const steady = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    const bad = Float64Array.from({ length: 100 }, () => 1_000);
    const figure = latencyOverRounds([steady, steady, bad]);
    expect(figure.p50).toBe(50);
    expect(figure.p99).toBe(99);
    expect(summarize(Float64Array.from([...steady, ...steady, ...bad])).p99).toBe(1_000);
  });

  it('refuses a round without samples rather than report NaN', () => {
    expect(() => latencyOverRounds([new Float64Array([1]), new Float64Array()])).toThrow(/round 2 has no samples/);
    expect(() => latencyOverRounds([])).toThrow(/no rounds/);
  });
});

describe('the verdict rule', () => {
  it(`calls a ratio within ${PARITY_BAND} either way parity, else better or worse by the metric's direction`, () => {
    expect(verdictOf(1.1, 'lower')).toBe('parity');
    expect(verdictOf(1 / 1.1, 'higher')).toBe('parity');
    expect(verdictOf(1.11, 'lower')).toBe('worse');
    expect(verdictOf(1.11, 'higher')).toBe('better');
    expect(verdictOf(0.85, 'lower')).toBe('better');
    expect(verdictOf(0.85, 'higher')).toBe('worse');
    expect(metric('tps', 95, 'tx/s', { name: 'pgbench', value: 100 })).toMatchObject({ better: 'higher', verdict: 'parity', ratio: 0.95 });
    expect(metric('p99', 3, 'ms', { name: 'base', value: 1 })).toMatchObject({ better: 'lower', verdict: 'worse' });
    expect(metric('fraction', 3, 'ratio', { name: 'base', value: 1 }, { better: 'higher' }).verdict).toBe('better');
    expect(() => metric('fraction', 3, 'ratio', { name: 'base', value: 1 })).toThrow(/higher or a lower/);
  });
});

describe('the fanout delivery rule', () => {
  // Two clients (0 and 1) on order A's live state, a broadcast of two orders; the window is [100, 200].
  const stamps: Array<[string, number]> = [
    ['A:1', 110],
    ['A:2', 120],
    ['A:3', 130],
    ['B:1', 140],
    ['B:2', 250], // after the window: not expected, but it still supersedes B:1
  ];
  const arrivals: Array<[string, Float64Array, Uint32Array]> = [
    ['A:1', Float64Array.from([111, 112]), Uint32Array.from([0, 1])],
    // A:2 reached nobody; A:3 reached client 0 only, so A:2 was coalesced there and is missing at client 1.
    ['A:3', Float64Array.from([131, 131.5]), Uint32Array.from([0, 0])],
    ['B:1', Float64Array.from([139]), Uint32Array.from([1])],
    ['B:2', Float64Array.from([251]), Uint32Array.from([0])],
  ];

  it('counts a version replaced by a newer one at the same client as coalesced, one never superseded and never seen as missing', () => {
    const joined = joinDeliveries(stamps, arrivals, { from: 100, to: 200 }, { fanout: 2, coalescing: true });
    expect(joined).toMatchObject({ changes: 4, expected: 8, delivered: 4, coalesced: 2, missing: 2, early: 1 });
    // One sample per (client, change) delivered, the repeat at client 0 left out, the early arrival as 0 ms.
    expect(joined.samplesMs.sort((a, b) => a - b)).toEqual([0, 1, 1, 2]);
  });

  it('never coalesces a baseline message: what did not arrive is missing', () => {
    const joined = joinDeliveries(stamps, arrivals, { from: 100, to: 200 }, { fanout: 2, coalescing: false });
    expect(joined).toMatchObject({ delivered: 4, coalesced: 0, missing: 4 });
  });

  it('compares counts of losses even when the baseline lost none', () => {
    expect(metric('missing', 0, 'deliveries', { name: 'base', value: 0 }, { better: 'lower', count: true })).toMatchObject({ ratio: 1, verdict: 'parity' });
    expect(metric('missing', 5, 'deliveries', { name: 'base', value: 0 }, { better: 'lower', count: true })).toMatchObject({ ratio: 5, verdict: 'worse' });
    const goal = (m: { value: number }) => ({ bar: 'none missing', met: m.value === 0 });
    expect(metric('missing', 0, 'deliveries', { name: 'base', value: 3 }, { better: 'lower', count: true, goal }).goal).toEqual({ bar: 'none missing', met: true });
  });
});
