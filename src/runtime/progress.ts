/** Progress lines with timings on stderr, so `--json` output on stdout stays clean. */
export interface Progress {
  /** `kind`: what the engine's timeline calls the entry (fault, crash, heal, phase), for sinks that sort them */
  step(message: string, kind?: string): void;
  done(message: string, startedAt: number): void;
}

export const stderrProgress = (quiet = false): Progress => ({
  step: (m) => {
    if (!quiet) process.stderr.write(`  · ${m}\n`);
  },
  done: (m, t0) => {
    if (!quiet) process.stderr.write(`  ✓ ${m} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  },
});

export const silentProgress: Progress = { step: () => {}, done: () => {} };

/**
 * "what: 40 left of 120, ETA 12 s" for a count that goes down (backlog, lag): the rate is measured from the
 * first reading, so the ETA needs two readings; a count that grows shows no ETA rather than a wrong one.
 */
export function countdown(what: string) {
  let first: { at: number; n: number } | undefined;
  return (n: number): string => {
    const now = Date.now();
    first ??= { at: now, n };
    const rate = (first.n - n) / Math.max((now - first.at) / 1000, 0.001);
    const eta = n > 0 && rate > 0 && now > first.at ? `, ETA ${Math.ceil(n / rate)} s` : '';
    return `${what}: ${n} left${first.n > n ? ` of ${first.n}` : ''}${eta}`;
  };
}
