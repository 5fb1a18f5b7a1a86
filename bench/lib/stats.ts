/**
 * Latency and throughput statistics for benchmark reports: percentiles by
 * the nearest-rank method over every sample of a round (no histogram
 * buckets), and the one rule for a figure over several rounds: the median of
 * the rounds' figures (a latency figure is the median of each round's p50,
 * and of each round's p99; never a percentile of the rounds pooled, where
 * one bad round would set the p99 alone).
 */

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array; p in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summarise samples (any unit; the result is in the same unit). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** A latency figure over rounds, and the per-round figures it was taken from (for the record's notes). */
export interface RoundsLatency {
  /** Median over rounds of each round's p50. */
  p50: number;
  /** Median over rounds of each round's p99. */
  p99: number;
  rounds: Array<Pick<LatencySummary, 'count' | 'p50' | 'p99' | 'max'>>;
}

/** The statistics rule: summarise each round's samples on their own, then take the median of the rounds' p50s and p99s. */
export function latencyOverRounds(rounds: ReadonlyArray<ArrayLike<number>>): RoundsLatency {
  if (rounds.length === 0) throw new Error('latencyOverRounds: no rounds');
  const perRound = rounds.map((samples, i) => {
    if (samples.length === 0) throw new Error(`latencyOverRounds: round ${i + 1} has no samples`);
    const { count, p50, p99, max } = summarize(samples);
    return { count, p50, p99, max };
  });
  return { p50: median(perRound.map((r) => r.p50)), p99: median(perRound.map((r) => r.p99)), rounds: perRound };
}

/** Round to a few significant digits, so reports do not pretend to precision they lack. */
export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
