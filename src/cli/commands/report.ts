import { Args, Flags } from '@oclif/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabCommand } from '../base';
import { prometheusClient } from '../../runtime/stack';
import { findRunDirs, rerender, writeIndex } from '../../reports/write';

export default class Report extends LabCommand {
  static override summary =
    'Re-render report.html, report.md and junit.xml from journal.json (+ prometheus.json), without the stack.';
  static override description =
    'Give one run directory (holding journal.json) or a report root (its subdirectories are runs; index.html is written there too). Runs without prometheus.json are rendered without plots unless --fetch asks Prometheus (it keeps two days).';
  static override examples = [
    '<%= config.bin %> report reports/e-002-s42-1a2b3c',
    '<%= config.bin %> report reports/all-2026-01-01T00-00-00-000Z',
    '<%= config.bin %> report test-output/verdicts/<run id> --fetch',
  ];
  static override args = {
    dir: Args.string({ required: true, description: 'a run directory or a report root' }),
  };
  static override flags = {
    fetch: Flags.boolean({
      description: 'ask the running Prometheus for the series of runs that have no prometheus.json',
      default: false,
    }),
  };

  async run() {
    const { args, flags } = await this.parse(Report);
    const dir = path.resolve(args.dir);
    const prom = flags.fetch ? prometheusClient(this.lab) : undefined;
    const single = fs.existsSync(path.join(dir, 'journal.json'));
    const runs = [];
    for (const d of single ? [dir] : findRunDirs(dir)) {
      const r = await rerender(d, prom);
      runs.push({ dir: d, result: r.result, obs: r.obs });
      this.log(
        `${path.relative(process.cwd(), r.files.html)}  ${r.result.id} ${r.result.outcome}${r.obs.errors.length ? ` (${r.obs.errors.length} observation problem(s))` : ''}`,
      );
    }
    if (!runs.length) this.error(`no run directory (with journal.json) in ${dir}`, { exit: 2 });
    const index = single ? undefined : writeIndex(dir, runs).index;
    if (index) this.log(`index: ${path.relative(process.cwd(), index)}`);
    return {
      runs: runs.map((r) => ({ dir: r.dir, id: r.result.id, outcome: r.result.outcome })),
      index,
    };
  }
}
