import type { LabConfig } from '../lib/config';
import { labPaths } from '../lib/config';
import type { PrometheusClient } from '../lib/prometheus';
import { reportLayout, reportStamp, type ReportLayout } from '../reports/layout';
import { writePair } from '../reports/pair-page';
import type { Observations } from '../reports/types';
import { writeIndex, writeRunReport } from '../reports/write';
import { withStackLock } from '../runtime/lock';
import type { Progress } from '../runtime/progress';
import { stderrProgress } from '../runtime/progress';
import {
  progressJournal,
  progressJournalFile,
  teeProgress,
  type RunEvent,
} from '../runtime/progress-journal';
import { prometheusClient, up } from '../runtime/stack';
import {
  OUTCOME_EXIT_CODES,
  preflight,
  runExperiment,
  worseOutcome,
  type Outcome,
  type RunResult,
} from './engine';
import { liveEngineDeps, type EngineDeps } from './engine-deps';
import {
  findExperiment,
  listExperimentFiles,
  loadExperimentFile,
  sidesOf,
  type LoadedExperiment,
} from './loader';
import { pairOf, type PairResult } from './pair';
import { headline, writeReport } from './report';
import type { SideName } from './schema';
import { workloadKind } from './workloads';

/**
 * `chaos exp run`'s batch: one experiment or all, each one side, both sides (a pair) or its one run, under the stack
 * lock, with their reports, the progress journal the lab UI tails, and the exit code of the worst outcome.
 */

/** What the user selected: an id ("all", E-00x or a path), one side, or the counterfactual (the ❌ side). */
export interface Selection {
  id: string;
  side?: SideName;
  counterfactual: boolean;
}

/** The one side a selection runs: `--counterfactual` is the anti-pattern side; none means every declared side. */
export const onlySide = (s: Selection): SideName | undefined =>
  s.counterfactual ? 'anti-pattern' : s.side;

/** The experiment files a selection names, every one of them (`all`) or the one found. */
export const selectedFiles = (root: string, id: string): { file: string }[] =>
  id.toLowerCase() === 'all' ? listExperimentFiles(root) : [findExperiment(root, id)];

/**
 * One group per experiment: its sides (the file's own first), or its one run. With `all --side X`, the
 * experiments that do not show X are left out; a single one that does not is an error (its load throws, exit 2).
 */
export function expandSelection<T>(
  files: { file: string }[],
  only: SideName | undefined,
  sides: (file: string) => (SideName | undefined)[],
  load: (file: string, side: SideName | undefined) => T,
): T[][] {
  return files
    .map((f) => {
      if (only && files.length > 1 && !sides(f.file).includes(only)) return [];
      return (only ? [only] : sides(f.file)).map((side) => load(f.file, side));
    })
    .filter((g) => g.length);
}

/** Loads (and so validates) every selected file before anything runs: a bad file fails here, no fault injected. */
export const loadSelection = (root: string, s: Selection): LoadedExperiment[][] =>
  expandSelection(selectedFiles(root, s.id), onlySide(s), sidesOf, (file, side) =>
    loadExperimentFile(file, process.env, side),
  );

/**
 * The worst outcome decides (OUTCOME_SEVERITY): interrupted > rollback failed > aborted > inconclusive >
 * deviated > completed. A pair whose sides saw different fault schedules deviates, though each side completed.
 */
export const worstOutcome = (outcomes: Outcome[]): Outcome =>
  outcomes.reduce<Outcome>(worseOutcome, 'completed');

/** The exit code of a batch (README, "Exit codes"): the worst outcome of its runs and pairs. */
export const batchExitCode = (
  runs: { outcome: Outcome }[],
  pairs: { outcome: Outcome }[],
): number => OUTCOME_EXIT_CODES[worstOutcome([...runs, ...pairs].map((r) => r.outcome))];

/** The lock holder's description, as `chaos status` and the lab UI show it. */
export const lockLabel = (s: Selection, seed: number): string =>
  [
    'exp run',
    s.id,
    ...(s.counterfactual ? ['--counterfactual'] : s.side ? ['--side', s.side] : []),
    '--seed',
    String(seed),
  ].join(' ');

/** `--json`: one run, its result; one experiment both ways, the pair (its sides inside); several, a list of either. */
export function batchJson(
  groups: { experiment: { id: string } }[][],
  results: RunResult[],
  pairs: PairResult[],
): unknown {
  const items = groups
    .map(
      (g) =>
        pairs.find((p) => p.id === g[0].experiment.id) ??
        results.find((r) => r.id === g[0].experiment.id),
    )
    .filter(Boolean);
  return items.length === 1 ? items[0] : items;
}

/** A side's verdict for the UI: outcome, probes as judged, the audit's figures and its report. */
export function verdictEvent(r: RunResult, report: string): RunEvent {
  return {
    type: 'verdict',
    id: r.id,
    ...(r.side ? { side: r.side } : {}),
    runId: r.runId,
    outcome: r.outcome,
    expected: r.expected,
    headline: headline(r),
    probes: r.probes.map((p) => ({
      name: p.name,
      ok: p.ok,
      expected: p.expected,
      observed: p.observed,
      ...(p.inconclusive ? { inconclusive: true } : {}),
    })),
    figures: r.audit?.figures ?? {},
    ...(r.inconclusive?.length ? { inconclusive: r.inconclusive } : {}),
    report,
  };
}

/** What the batch tells its caller as it goes (the CLI prints it); `label` is " [side]" in a pair, else "". */
export interface BatchListener {
  starting(l: LoadedExperiment, label: string): void;
  /** aborted or interrupted: the batch stops; its journal is in the partial report */
  stopped(r: RunResult, label: string, partialReport: string): void;
  reported(r: RunResult, html: string, obs: Observations): void;
  /** a rollback failed: the batch stops, the next run would start on what it left */
  rollbackFailed(r: RunResult, label: string): void;
  paired(p: PairResult, html: string): void;
  indexed(index: string): void;
}

export interface BatchOptions {
  seed: number;
  full: boolean;
  counterfactual: boolean;
  /** --report DIR */
  report?: string;
  signal: AbortSignal;
}

export interface BatchResult {
  results: RunResult[];
  pairs: PairResult[];
  exitCode: number;
  /** report files, the index and pair pages first */
  written: string[];
}

interface Reported {
  dir: string;
  result: RunResult;
  obs: Observations;
}

/** Everything one batch shares while it runs. */
interface Batch {
  c: LabConfig;
  opts: BatchOptions;
  on: BatchListener;
  layout: ReportLayout;
  journal: ReturnType<typeof progressJournal>;
  progress: Progress;
  prom: PrometheusClient;
  results: RunResult[];
  pairs: PairResult[];
  reported: Reported[];
  written: string[];
}

/**
 * Runs the selected groups under the stack lock (no `up`, `down` or other run meanwhile; the lab UI shows who holds
 * it) and returns what they gave with the batch's exit code. A run that aborts, is interrupted or leaves a failed
 * rollback stops the batch; the index still covers the runs that finished. Throws (exit 2) when the lock, the stack
 * or a preflight check fails, after journaling the end.
 */
export async function runBatch(
  c: LabConfig,
  s: Selection,
  groups: LoadedExperiment[][],
  opts: BatchOptions,
  on: BatchListener,
): Promise<BatchResult> {
  const journal = progressJournal(progressJournalFile(c));
  const b: Batch = {
    c,
    opts,
    on,
    layout: reportLayout(
      c.root,
      groups.map((g) => ({ id: g[0].experiment.id, runs: g.length })),
      { seed: opts.seed, report: opts.report, stamp: reportStamp() },
    ),
    journal,
    progress: teeProgress(stderrProgress(), journal.progress),
    prom: prometheusClient(c),
    results: [],
    pairs: [],
    reported: [],
    written: [],
  };
  const what = lockLabel(s, opts.seed);
  try {
    await withStackLock(labPaths(c).run, what, async () => {
      journal.start({
        type: 'start',
        pid: process.pid,
        what,
        experiments: groups.map((g) => g[0].experiment.id),
        seed: opts.seed,
      });
      try {
        await runGroups(b, groups);
      } finally {
        writeBatchIndex(b, groups.length > 1);
      }
    });
  } catch (e) {
    journal.emit({ type: 'end', exitCode: 2, reports: b.written, error: (e as Error).message });
    throw e;
  }
  const exitCode = batchExitCode(b.results, b.pairs);
  journal.emit({ type: 'end', exitCode, reports: b.written });
  return { results: b.results, pairs: b.pairs, exitCode, written: b.written };
}

/**
 * The stack, then the checks that need it (PromQL, modes) for every selected experiment, before the first one
 * runs. The engine repeats both for each run (with its workload's Redis Cluster), but only for the run about to
 * start: with `all`, a bad query in the last experiment would otherwise show after every other one had run.
 */
async function preflightAll(b: Batch, groups: LoadedExperiment[][]): Promise<EngineDeps> {
  await up(b.c, b.progress);
  const deps = liveEngineDeps(b.c);
  for (const l of groups.flat()) {
    const kind = workloadKind(l.experiment.workload.kind);
    if (kind) await preflight(l, deps.prometheus, kind, deps.documentedMetrics);
  }
  return deps;
}

async function runGroups(b: Batch, groups: LoadedExperiment[][]): Promise<void> {
  const deps = await preflightAll(b, groups);
  for (const group of groups) {
    const sides: RunResult[] = [];
    for (const l of group) {
      const r = await runSide(b, l, l.side && group.length > 1 ? ` [${l.side}]` : '', deps);
      if (!r) return;
      sides.push(r);
    }
    if (sides.length > 1) writePairReport(b, sides, group[0]);
  }
}

/** One run and its report; undefined when the batch must stop (aborted, interrupted, a rollback failed). */
async function runSide(
  b: Batch,
  l: LoadedExperiment,
  label: string,
  deps: EngineDeps,
): Promise<RunResult | undefined> {
  b.on.starting(l, label);
  b.journal.emit({
    type: 'side',
    id: l.experiment.id,
    ...(l.side ? { side: l.side } : {}),
    title: l.experiment.title,
  });
  const { seed, full, counterfactual, signal } = b.opts;
  const r = await runExperiment(
    b.c,
    l,
    { seed, full, counterfactual, progress: b.progress, signal },
    deps,
  );
  b.results.push(r);
  if (r.outcome === 'aborted' || r.outcome === 'interrupted') {
    // It still leaves its journal: what ran, which faults, which rollbacks, and how it ended.
    const partial = writeReport(b.layout.runDir(r), r).markdown;
    b.journal.emit(verdictEvent(r, partial));
    b.on.stopped(r, label, partial);
    return undefined;
  }
  const { files, obs } = await writeRunReport(b.prom, b.layout.runDir(r), r);
  b.reported.push({ dir: files.dir, result: r, obs });
  b.journal.emit(verdictEvent(r, files.html));
  b.written.push(files.html);
  b.on.reported(r, files.html, obs);
  // A failed rollback left something on the machine: the next run would start on it.
  if (r.outcome === 'failed') {
    b.on.rollbackFailed(r, label);
    return undefined;
  }
  return r;
}

/** pair.html (and pair.md, pair.json) of an experiment run both ways, in its directory. */
function writePairReport(b: Batch, sides: RunResult[], first: LoadedExperiment): void {
  const pair = pairOf(sides, first.experiment.pair?.compare);
  b.pairs.push(pair);
  const observed = sides.map((run) => b.reported.find((x) => x.result === run)?.obs);
  const dir = b.layout.experimentDir(pair.id) ?? b.layout.runDir(sides[0]);
  const files = writePair(dir, pair, observed);
  b.journal.emit({ type: 'pair', id: pair.id, outcome: pair.outcome, report: files.html });
  b.written.unshift(files.html);
  b.on.paired(pair, files.html);
}

/** The index covers the runs that finished, even when a later one aborted or was interrupted. */
function writeBatchIndex(b: Batch, several: boolean): void {
  if (!b.layout.root || !b.reported.length) return;
  const index = writeIndex(b.layout.root, b.reported).index;
  if (several) b.written.unshift(index);
  b.on.indexed(index);
}
