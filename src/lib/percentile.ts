/**
 * Nearest-rank percentile: the smallest value with at least p% of the values at or below it (p in 0..100).
 * The one percentile of the lab: workloads, reports and benchmarks all rank the same way.
 * An empty list has none: NaN (JSON writes it as null; callers that need a number say which).
 */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
