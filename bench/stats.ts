// Summaries of timing samples: medians and tails, and the spread that says how far to trust them.

/** A distribution of samples in one unit (milliseconds unless named otherwise). */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted samples, interpolating linearly between the two nearest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below] ?? Number.NaN;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] ?? low;
  return low + (high - low) * (position - below);
}

/** Summarises samples: min, median, p99, max, mean. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean,
  };
}

/** How much per-round medians disagree: (max - min) / median of them, as a percentage. */
export function spreadPercent(roundMedians: readonly number[]): number {
  const summary = summarize(roundMedians);
  return summary.median > 0 ? ((summary.max - summary.min) / summary.median) * 100 : Number.NaN;
}

/** Rounds a number to a given count of significant-looking decimals, for JSON and tables. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
