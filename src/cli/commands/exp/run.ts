import { Args, Flags } from '@oclif/core';
import * as path from 'node:path';
import { LabCommand } from '../../base';
import {
  OUTCOME_EXIT_CODES,
  preflight,
  runExperiment,
  type RunResult,
} from '../../../experiments/engine';
import { liveEngineDeps } from '../../../experiments/engine-deps';
import { workloadKind } from '../../../experiments/workloads';
import { up } from '../../../runtime/stack';
import {
  findExperiment,
  listExperimentFiles,
  loadExperimentFile,
} from '../../../experiments/loader';
import { headline, verdictTable, writeReport } from '../../../experiments/report';
import { prometheusClient } from '../../../runtime/stack';
import { writeIndex, writeRunReport } from '../../../reports/write';
import type { Observations } from '../../../reports/types';
import { stderrProgress } from '../../../runtime/progress';

export default class ExpRun extends LabCommand {
  static override summary =
    'Run an experiment (or all) and print its verdict; exit 0 only if the expected outcome was observed.';
  static override examples = [
    '<%= config.bin %> exp run E-002',
    '<%= config.bin %> exp run E-003 --seed 7 --report reports/e003',
    '<%= config.bin %> exp run all --json',
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
    const loaded = files.map((f) => loadExperimentFile(f.file));
    const abort = new AbortController();
    const onSigint = () => {
      this.logToStderr('\ninterrupted: rolling back faults and stopping services…');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    const results: RunResult[] = [];
    // Several runs share a report root holding index.html; a single run writes into its own directory.
    const root =
      files.length > 1
        ? (flags.report ??
          path.join(c.root, 'reports', `all-${new Date().toISOString().replace(/[:.]/g, '-')}`))
        : undefined;
    const reportDir = (r: RunResult) =>
      root ? path.join(root, r.id) : (flags.report ?? path.join(c.root, 'reports', r.runId));
    const reported: { dir: string; result: RunResult; obs: Observations }[] = [];
    const prom = prometheusClient(c);
    try {
      // Checks that need the stack (PromQL, modes), for every selected experiment, before the first one runs.
      await up(c, stderrProgress());
      const deps = liveEngineDeps(c);
      for (const l of loaded) {
        const kind = workloadKind(l.experiment.workload.kind);
        if (kind) await preflight(l, deps.prometheus, kind, deps.documentedMetrics);
      }
      for (const l of loaded) {
        this.logToStderr(`▶ ${l.experiment.id} — ${l.experiment.title} (seed ${flags.seed})`);
        const r = await runExperiment(
          c,
          l,
          { seed: flags.seed, full: flags.full, progress: stderrProgress(), signal: abort.signal },
          deps,
        );
        if (r.outcome === 'aborted' || r.outcome === 'interrupted') {
          // It still leaves its journal: what ran, which faults, which rollbacks, and how it ended.
          results.push(r);
          this.logToStderr(
            `${r.id} ${r.outcome}: ${r.error ?? ''}\npartial report: ${path.relative(process.cwd(), writeReport(reportDir(r), r).markdown)}`,
          );
          break;
        }
        const { files: out, obs } = await writeRunReport(prom, reportDir(r), r);
        results.push(r);
        reported.push({ dir: out.dir, result: r, obs });
        const fired =
          obs.alerts
            .map((a) => `${a.alertname} (${a.firingAtSec !== undefined ? 'firing' : 'pending'})`)
            .join(', ') || 'none';
        if (!this.jsonEnabled())
          this.log(
            `\n${verdictTable(r)}\n\n${headline(r)}\nalerts during the run: ${fired}\nreport: ${path.relative(process.cwd(), out.html)} (also report.md, junit.xml)\n`,
          );
        // A failed rollback left something on the machine: the next experiment would run on it.
        if (r.outcome === 'failed') {
          this.logToStderr(`${r.id}: ${r.error}`);
          break;
        }
      }
    } finally {
      // The index covers the runs that finished, even when a later one aborted or was interrupted.
      if (root && reported.length)
        this.logToStderr(
          `index: ${path.relative(process.cwd(), writeIndex(root, reported).index)}`,
        );
      process.removeListener('SIGINT', onSigint);
    }
    // The worst outcome decides: interrupted (130) > rollback failed (4) > aborted (3) > deviated (1) > completed (0).
    const code = Math.max(0, ...results.map((r) => OUTCOME_EXIT_CODES[r.outcome]));
    if (this.jsonEnabled()) {
      if (code) process.exitCode = code;
      return results.length === 1 ? results[0] : results;
    }
    if (code) this.exit(code);
    return results;
  }
}
