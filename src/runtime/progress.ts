/** Progress lines with timings on stderr, so `--json` output on stdout stays clean. */
export interface Progress {
  step(message: string): void;
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
