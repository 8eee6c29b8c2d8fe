import { expect } from 'chai';
import type { LabConfig } from '../../src/lib/config';
import { runExperiment, type RunResult } from '../../src/experiments/engine';
import { findExperiment, loadExperimentFile } from '../../src/experiments/loader';
import { writeReport } from '../../src/experiments/report';
import * as path from 'node:path';
import { silentProgress, stderrProgress } from '../../src/runtime/progress';
import { ensureLab } from '../support/lab';

/** Seeds every verdict suite runs with: three in CI (the outcome must not depend on the seed), one locally. */
export const SEEDS = (
  process.env.LAB_VERDICT_SEEDS ?? (process.env.CI === 'true' ? '11,23,42' : '42')
)
  .split(',')
  .map(Number);

/** Runs an experiment exactly as `chaos exp run` does, with optional env overrides of its configuration. */
export async function runById(
  id: string,
  seed: number,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const c: LabConfig = await ensureLab();
  const loaded = loadExperimentFile(findExperiment(c.root, id).file, { ...process.env, ...env });
  const r = await runExperiment(c, loaded, {
    seed,
    progress: process.env.LAB_TEST_VERBOSE ? stderrProgress() : silentProgress,
  });
  // Kept for whoever has to read a failing run: test-output/verdicts/<run id>/report.md
  writeReport(path.join(c.root, 'test-output', 'verdicts', r.runId), r);
  return r;
}

export function expectOutcome(r: RunResult, outcome: RunResult['outcome']) {
  const failing = r.probes
    .filter((p) => !p.ok)
    .map(
      (p) =>
        `${p.name}: expected ${p.expected}, observed ${p.observed} ${p.crossCheck && !p.crossCheck.ok ? `(audit ${p.crossCheck.auditValue})` : ''}`,
    );
  expect(r.outcome, `${r.id} seed ${r.seed}: ${failing.join('; ') || 'all probes ok'}`).to.equal(
    outcome,
  );
}
