/**
 * XFetch — "Optimal Probabilistic Cache Stampede Prevention", Vattani, Chierichetti, Lowenstein, VLDB 2015.
 * Refresh early when   now − δ·β·ln(rand()) ≥ expiry,   δ = how long a recompute takes, β ≥ 0 a tuning knob.
 * −ln(rand()) is exponentially distributed, so the chance to refresh at time `gap` before expiry is
 * exp(−gap / (δβ)): negligible long before expiry, rising sharply near it, and higher for slow recomputes
 * (large δ) — which need the head start. Each caller decides independently, so the expected number of early
 * refreshers stays small without any coordination. β = 0 disables early refresh (only now ≥ expiry refreshes).
 */
export function xfetchShouldRefresh(a: {
  now: number;
  expiry: number;
  deltaMs: number;
  beta: number;
  rand?: () => number;
}): boolean {
  if (a.now >= a.expiry) return true;
  if (a.beta <= 0 || a.deltaMs <= 0) return false;
  // Math.random() may return 0; ln(0) = −∞ would mean "refresh": clamp to the smallest positive double instead.
  const r = Math.max((a.rand ?? Math.random)(), Number.MIN_VALUE);
  return a.now - a.deltaMs * a.beta * Math.log(r) >= a.expiry;
}

/** The probability the rule above fires `gapMs` before expiry: exp(−gap/(δβ)). For tests and dashboards. */
export const xfetchProbability = (gapMs: number, deltaMs: number, beta: number) =>
  gapMs <= 0 ? 1 : beta <= 0 || deltaMs <= 0 ? 0 : Math.exp(-gapMs / (deltaMs * beta));
