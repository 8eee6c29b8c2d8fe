import { Args, Flags } from '@oclif/core';
import * as path from 'node:path';
import { LabCommand } from '../../base';
import {
  batchJson,
  loadSelection,
  runBatch,
  type BatchListener,
  type Selection,
} from '../../../experiments/batch';
import { pairMarkdown } from '../../../experiments/pair';
import { headline, verdictTable } from '../../../experiments/report';
import { SIDES, type SideName } from '../../../experiments/schema';

const rel = (file: string) => path.relative(process.cwd(), file);

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
    const selection: Selection = {
      id: args.id,
      side: flags.side as SideName | undefined,
      counterfactual: flags.counterfactual,
    };
    const groups = loadSelection(this.lab.root, selection);
    const abort = new AbortController();
    const onSigint = () => {
      this.logToStderr('\ninterrupted: rolling back faults and stopping services…');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    const batch = await runBatch(
      this.lab,
      selection,
      groups,
      {
        seed: flags.seed,
        full: flags.full,
        counterfactual: flags.counterfactual,
        report: flags.report,
        signal: abort.signal,
      },
      this.printer(flags.seed),
    ).finally(() => process.removeListener('SIGINT', onSigint));
    if (this.jsonEnabled()) {
      if (batch.exitCode) process.exitCode = batch.exitCode;
      return batchJson(groups, batch.results, batch.pairs);
    }
    if (batch.exitCode) this.exit(batch.exitCode);
    return batch.results;
  }

  /** What the terminal shows as the batch goes: progress on stderr, verdicts and pairs on stdout (not with --json). */
  private printer(seed: number): BatchListener {
    const out = (text: string) => {
      if (!this.jsonEnabled()) this.log(text);
    };
    return {
      starting: (l, label) =>
        this.logToStderr(`▶ ${l.experiment.id}${label} — ${l.experiment.title} (seed ${seed})`),
      stopped: (r, label, partial) =>
        this.logToStderr(
          `${r.id}${label} ${r.outcome}: ${r.error ?? ''}\npartial report: ${rel(partial)}`,
        ),
      reported: (r, html, obs) => {
        const fired =
          obs.alerts
            .map((a) => `${a.alertname} (${a.firingAtSec !== undefined ? 'firing' : 'pending'})`)
            .join(', ') || 'none';
        out(
          `\n${verdictTable(r)}\n\n${headline(r)}\nalerts during the run: ${fired}\nreport: ${rel(html)} (also report.md, junit.xml)\n`,
        );
      },
      rollbackFailed: (r, label) => this.logToStderr(`${r.id}${label}: ${r.error}`),
      paired: (pair, html) => out(`${pairMarkdown(pair)}\npair report: ${rel(html)}\n`),
      indexed: (index) => this.logToStderr(`index: ${rel(index)}`),
    };
  }
}
