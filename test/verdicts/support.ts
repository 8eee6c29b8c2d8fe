import { expect } from 'chai';
import type { LabConfig } from '../../src/lib/config';
import { runExperiment, type RunResult } from '../../src/experiments/engine';
import { findExperiment, loadExperimentFile, sidesOf } from '../../src/experiments/loader';
import { pairOf, type PairResult } from '../../src/experiments/pair';
import type { Experiment, SideName } from '../../src/experiments/schema';
import { writePair } from '../../src/reports/pair-page';
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

/**
 * Runs an experiment exactly as `chaos exp run --side` does, with optional env overrides of its configuration; with
 * no side, the file's own (or its only) one.
 */
export async function runById(
  id: string,
  seed: number,
  env: Record<string, string> = {},
  side?: SideName,
  sabotage?: (e: Experiment) => void,
  counterfactual = false,
): Promise<RunResult> {
  const c: LabConfig = await ensureLab();
  const loaded = loadExperimentFile(
    findExperiment(c.root, id).file,
    { ...process.env, ...env },
    side,
  );
  sabotage?.(loaded.experiment);
  const r = await runExperiment(c, loaded, {
    seed,
    counterfactual,
    progress: process.env.LAB_TEST_VERBOSE ? stderrProgress() : silentProgress,
  });
  // Kept for whoever has to read a failing run: test-output/verdicts/<run id>/report.md
  writeReport(path.join(c.root, 'test-output', 'verdicts', r.runId), r);
  return r;
}

/** Runs both sides of an experiment, its own first, as `chaos exp run` does; keeps pair.md beside the sides' reports. */
export async function runPair(id: string, seed: number): Promise<PairResult> {
  const c: LabConfig = await ensureLab();
  const file = findExperiment(c.root, id).file;
  const sides = sidesOf(file);
  expect(sides, `${id} declares two sides`).to.have.length(2);
  const runs: RunResult[] = [];
  for (const side of sides) runs.push(await runById(id, seed, {}, side));
  const pair = pairOf(runs, loadExperimentFile(file, process.env).experiment.pair?.compare);
  writePair(
    path.join(c.root, 'test-output', 'verdicts', `${id.toLowerCase()}-s${seed}-pair`),
    pair,
  );
  return pair;
}

/**
 * A ✅ side with its pattern switched off behind its back (same file, same probes, same fault schedule): it must
 * come out `deviated`, caught by `caughtBy` — a ✅ that survives its sabotage has probes that cannot fail.
 */
export async function expectSabotageCaught(
  id: string,
  seed: number,
  sabotage: (e: Experiment) => void,
  caughtBy: string,
): Promise<RunResult> {
  const r = await runById(id, seed, {}, 'pattern', sabotage);
  const failing = r.probes.filter((p) => !p.ok).map((p) => p.name);
  expect(r.outcome, `${id} sabotaged: ${failing.join('; ') || 'every probe passed'}`).to.equal(
    'deviated',
  );
  expect(failing, 'the probe that caught the sabotage').to.include(caughtBy);
  return r;
}

/**
 * The ❌ side with every fault step removed (`chaos exp run --counterfactual`): it must NOT reproduce — a ❌ that
 * reproduces without its fault is a bug in the experiment. Deviated or inconclusive both hold; the run names the
 * probes or reasons that said so, and `caughtBy` (a probe name or a reason's start) must be among them.
 */
export async function expectCounterfactualNotReproduced(
  id: string,
  seed: number,
  caughtBy: string,
): Promise<RunResult> {
  const r = await runById(id, seed, {}, 'anti-pattern', undefined, true);
  expect(r.outcome, `${id} without its faults: ${r.error ?? ''}`).to.equal('completed');
  expect(r.counterfactual?.reproduced, `${id} reproduced without its faults`).to.equal(false);
  expect(
    r.counterfactual!.because.filter((why) => why.includes(caughtBy)),
    `what said "not reproduced": ${r.counterfactual!.because.join('; ')}`,
  ).to.not.be.empty;
  return r;
}

/**
 * Runs both sides and asserts what every pair must show before its own figures: each side its expected outcome,
 * the same fault schedule on both, and the file's relations between them.
 */
export async function runBothWays(
  id: string,
  seed: number,
): Promise<{ antiPattern: RunResult; pattern: RunResult; pair: PairResult }> {
  const pair = await runPair(id, seed);
  const antiPattern = sideOf(pair, 'anti-pattern');
  const pattern = sideOf(pair, 'pattern');
  expectOutcome(antiPattern, 'completed');
  expectOutcome(pattern, 'completed');
  expect(pair.scheduleDifferences, 'the same fault schedule on both sides').to.deep.equal([]);
  const failed = pair.comparisons.filter((c) => !c.ok);
  expect(failed, 'pair.compare relations between the sides').to.deep.equal([]);
  expect(pair.outcome).to.equal('completed');
  expectAlerting(antiPattern, pattern);
  return { antiPattern, pattern, pair };
}

/**
 * What alerting would have told an SRE: the ❌ side is caught by an alert it declares, at warning or above, and the
 * ✅ side has no alert firing at warning or above that it does not expect (no noise). The engine judges both as
 * part of each side's outcome; this says it in the suite's own words, with the alerts named.
 */
export function expectAlerting(antiPattern: RunResult, pattern: RunResult) {
  const atWarningOrAbove = (a: RunResult['alerts'][number]) =>
    a.state === 'firing' && (a.severity === 'warning' || a.severity === 'critical');
  const caught = antiPattern.alerts.filter(
    (a) => atWarningOrAbove(a) && a.expectation === 'expected',
  );
  expect(
    caught.map((a) => a.alertname),
    `${antiPattern.id} seed ${antiPattern.seed}: the ❌ side caught by a declared alert (fired: ${antiPattern.alerts.map((a) => `${a.alertname} ${a.state}`).join(', ') || 'none'})`,
  ).to.not.be.empty;
  const noise = pattern.alerts.filter((a) => atWarningOrAbove(a) && a.expectation === 'unexpected');
  expect(
    noise.map((a) => a.alertname),
    `${pattern.id} seed ${pattern.seed}: unexpected alerts on the ✅ side`,
  ).to.deep.equal([]);
}

/** A sabotage: consumer-service switched to another mode behind the side's back. */
export const consumerMode =
  (mode: 'naive' | 'commit-first' | 'idempotent') =>
  (e: Experiment): void => {
    e.services['consumer-service']!.modes.CONSUMER_MODE = mode;
  };

/** The run of one side of a pair. */
export function sideOf(p: PairResult, side: SideName): RunResult {
  const run = p.sides.find((s) => s.side === side);
  if (!run) throw new Error(`${p.id} has no ${side} run`);
  return run;
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
