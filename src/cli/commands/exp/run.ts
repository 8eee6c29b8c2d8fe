import { Args, Flags } from '@oclif/core';
import * as path from 'node:path';
import { LabCommand } from '../../base';
import {
  OUTCOME_EXIT_CODES,
  preflight,
  runExperiment,
  worseOutcome,
  type Outcome,
  type RunResult,
} from '../../../experiments/engine';
import { liveEngineDeps } from '../../../experiments/engine-deps';
import { workloadKind } from '../../../experiments/workloads';
import { up } from '../../../runtime/stack';
import {
  findExperiment,
  listExperimentFiles,
  loadExperimentFile,
  sidesOf,
  type LoadedExperiment,
} from '../../../experiments/loader';
import { pairMarkdown, pairOf, type PairResult } from '../../../experiments/pair';
import { SIDES, type SideName } from '../../../experiments/schema';
import { writePair } from '../../../reports/pair-page';
import { headline, verdictTable, writeReport } from '../../../experiments/report';
import { prometheusClient } from '../../../runtime/stack';
import { writeIndex, writeRunReport } from '../../../reports/write';
import type { Observations } from '../../../reports/types';
import { stderrProgress } from '../../../runtime/progress';
import {
  progressJournal,
  progressJournalFile,
  teeProgress,
} from '../../../runtime/progress-journal';
import { withStackLock } from '../../../runtime/lock';
import { labPaths } from '../../../lib/config';

export default class ExpRun extends LabCommand {
  static override summary =
    'Run an experiment (or all) and print its verdict; exit 0 only if the expected outcome was observed.';
  static override examples = [
    '<%= config.bin %> exp run E-002',
    '<%= config.bin %> exp run E-002 --side pattern',
    '<%= config.bin %> exp run E-003 --seed 7 --report reports/e003',
    '<%= config.bin %> exp run all --json',
    '<%= config.bin %> exp run E-002 --counterfactual',
  ];
  static override args = {
    id: Args.string({
      required: true,
      description: 'experiment id (E-001…), "all", or a path to an experiment.yaml',
    }),
  };
  static override flags = {
    seed: Flags.integer({ description: 'workload seed (same seed → same commands)', default: 42 }),
    full: Flags.boolean({
      description:
        "a scenario's long version (E-009: the whole acks × min.insync × unclean matrix, more messages)",
      default: false,
    }),
    side: Flags.string({
      description:
        'run one side only: anti-pattern (the standard not applied) or pattern (applied); default both, when the experiment declares them',
      options: [...SIDES],
    }),
    counterfactual: Flags.boolean({
      description:
        'the anti-pattern side with every fault step removed: exit 0 only if it then does NOT reproduce (a ❌ that reproduces without its fault is a bug in the experiment)',
      default: false,
      exclusive: ['side'],
    }),
    report: Flags.string({
      description:
        'directory for report.html, junit.xml, journal.json, report.md (default reports/<run id>; with "all": DIR/<id>/ each and DIR/index.html, default reports/all-<time>)',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(ExpRun);
    const c = this.lab;
    // Validate every selected file before anything runs: a bad file fails here, with no fault injected.
    const files =
      args.id.toLowerCase() === 'all'
        ? listExperimentFiles(c.root)
        : [findExperiment(c.root, args.id)];
    const only = (flags.counterfactual ? 'anti-pattern' : flags.side) as SideName | undefined;
    // One group per experiment: its sides (the file's own first), or its one run. With `all --side X`, the
    // experiments that do not show X are left out; a single one that does not is an error (exit 2).
    const groups: LoadedExperiment[][] = files
      .map((f) => {
        const sides = only ? [only] : sidesOf(f.file);
        if (only && files.length > 1 && !sidesOf(f.file).includes(only)) return [];
        return sides.map((side) => loadExperimentFile(f.file, process.env, side));
      })
      .filter((g) => g.length);
    // The stack lock for the whole run: no `up`, `down` or other run under it; the lab UI shows who holds it.
    const what = [
      'exp run',
      args.id,
      ...(flags.counterfactual ? ['--counterfactual'] : only ? ['--side', only] : []),
      '--seed',
      String(flags.seed),
    ];
    const journal = progressJournal(progressJournalFile(c));
    const progress = teeProgress(stderrProgress(), journal.progress);
    const abort = new AbortController();
    const onSigint = () => {
      this.logToStderr('\ninterrupted: rolling back faults and stopping services…');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    const results: RunResult[] = [];
    const pairs: PairResult[] = [];
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const paired = groups.some((g) => g.length > 1);
    // Several runs share a report root holding index.html (and, per experiment, pair.html and a directory per side);
    // a single one-sided run writes into its own directory.
    const root =
      groups.length > 1 || paired
        ? (flags.report ??
          path.join(
            c.root,
            'reports',
            groups.length > 1
              ? `all-${stamp}`
              : `${groups[0][0].experiment.id.toLowerCase()}-s${flags.seed}-${stamp}`,
          ))
        : undefined;
    const experimentDir = (id: string) => (root && groups.length > 1 ? path.join(root, id) : root);
    const reportDir = (r: RunResult) => {
      const dir = experimentDir(r.id);
      if (!dir) return flags.report ?? path.join(c.root, 'reports', r.runId);
      return r.side && paired ? path.join(dir, r.side) : dir;
    };
    const reported: { dir: string; result: RunResult; obs: Observations }[] = [];
    const prom = prometheusClient(c);
    const written: string[] = [];
    const locked = withStackLock(labPaths(c).run, what.join(' '), async () => {
      journal.start({
        type: 'start',
        pid: process.pid,
        what: what.join(' '),
        experiments: groups.map((g) => g[0].experiment.id),
        seed: flags.seed,
      });
      try {
        // Checks that need the stack (PromQL, modes), for every selected experiment, before the first one runs.
        await up(c, progress);
        const deps = liveEngineDeps(c);
        for (const l of groups.flat()) {
          const kind = workloadKind(l.experiment.workload.kind);
          if (kind) await preflight(l, deps.prometheus, kind, deps.documentedMetrics);
        }
        runs: for (const group of groups) {
          const sides: RunResult[] = [];
          for (const l of group) {
            const side = l.side && group.length > 1 ? ` [${l.side}]` : '';
            this.logToStderr(
              `▶ ${l.experiment.id}${side} — ${l.experiment.title} (seed ${flags.seed})`,
            );
            journal.emit({
              type: 'side',
              id: l.experiment.id,
              ...(l.side ? { side: l.side } : {}),
              title: l.experiment.title,
            });
            const r = await runExperiment(
              c,
              l,
              {
                seed: flags.seed,
                full: flags.full,
                counterfactual: flags.counterfactual,
                progress,
                signal: abort.signal,
              },
              deps,
            );
            results.push(r);
            if (r.outcome === 'aborted' || r.outcome === 'interrupted') {
              // It still leaves its journal: what ran, which faults, which rollbacks, and how it ended.
              const partial = writeReport(reportDir(r), r).markdown;
              journal.emit(verdictEvent(r, partial));
              this.logToStderr(
                `${r.id}${side} ${r.outcome}: ${r.error ?? ''}\npartial report: ${path.relative(process.cwd(), partial)}`,
              );
              break runs;
            }
            const { files: out, obs } = await writeRunReport(prom, reportDir(r), r);
            sides.push(r);
            reported.push({ dir: out.dir, result: r, obs });
            journal.emit(verdictEvent(r, out.html));
            written.push(out.html);
            const fired =
              obs.alerts
                .map(
                  (a) => `${a.alertname} (${a.firingAtSec !== undefined ? 'firing' : 'pending'})`,
                )
                .join(', ') || 'none';
            if (!this.jsonEnabled())
              this.log(
                `\n${verdictTable(r)}\n\n${headline(r)}\nalerts during the run: ${fired}\nreport: ${path.relative(process.cwd(), out.html)} (also report.md, junit.xml)\n`,
              );
            // A failed rollback left something on the machine: the next run would start on it.
            if (r.outcome === 'failed') {
              this.logToStderr(`${r.id}${side}: ${r.error}`);
              break runs;
            }
          }
          if (sides.length > 1) {
            const pair = pairOf(sides, group[0].experiment.pair?.compare);
            pairs.push(pair);
            const observed = sides.map((run) => reported.find((x) => x.result === run)?.obs);
            const pairFiles = writePair(
              experimentDir(pair.id) ?? reportDir(sides[0]),
              pair,
              observed,
            );
            journal.emit({
              type: 'pair',
              id: pair.id,
              outcome: pair.outcome,
              report: pairFiles.html,
            });
            written.unshift(pairFiles.html);
            if (!this.jsonEnabled())
              this.log(
                `${pairMarkdown(pair)}\npair report: ${path.relative(process.cwd(), pairFiles.html)}\n`,
              );
          }
        }
      } finally {
        // The index covers the runs that finished, even when a later one aborted or was interrupted.
        if (root && reported.length) {
          const index = writeIndex(root, reported).index;
          if (groups.length > 1) written.unshift(index);
          this.logToStderr(`index: ${path.relative(process.cwd(), index)}`);
        }
        process.removeListener('SIGINT', onSigint);
      }
    });
    try {
      await locked;
    } catch (e) {
      journal.emit({ type: 'end', exitCode: 2, reports: written, error: (e as Error).message });
      throw e;
    }
    // The worst outcome decides (OUTCOME_SEVERITY): interrupted > rollback failed > aborted > inconclusive >
    // deviated > completed. A pair whose sides saw different fault schedules deviates, though each side completed.
    const worst = [...results, ...pairs]
      .map((r) => r.outcome)
      .reduce<Outcome>(worseOutcome, 'completed');
    const code = OUTCOME_EXIT_CODES[worst];
    journal.emit({ type: 'end', exitCode: code, reports: written });
    if (this.jsonEnabled()) {
      if (code) process.exitCode = code;
      // One run: its result; one experiment both ways: the pair (its sides inside); several: a list of either.
      const items = groups
        .map(
          (g) =>
            pairs.find((p) => p.id === g[0].experiment.id) ??
            results.find((r) => r.id === g[0].experiment.id),
        )
        .filter(Boolean);
      return items.length === 1 ? items[0] : items;
    }
    if (code) this.exit(code);
    return results;
  }
}

/** A side's verdict for the UI: outcome, probes as judged, the audit's figures and its report. */
function verdictEvent(r: RunResult, report: string) {
  return {
    type: 'verdict' as const,
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
