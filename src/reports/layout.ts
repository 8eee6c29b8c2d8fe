import * as path from 'node:path';
import type { RunResult } from '../experiments/engine';

/** One experiment of a batch as the layout sees it: its id and how many runs (sides) it has. */
export interface LayoutGroup {
  id: string;
  runs: number;
}

export interface ReportLayout {
  /** the directory holding index.html (several experiments) or pair.html (one both ways); none for a single run */
  root?: string;
  /** an experiment's directory: ROOT/<id> with several experiments, ROOT with one, none for a single run */
  experimentDir(id: string): string | undefined;
  /** where a run's report.html, report.md, junit.xml and journal.json go */
  runDir(r: Pick<RunResult, 'id' | 'side' | 'runId'>): string;
}

/** A file-name-safe timestamp: 2026-12-07T22-23-14-123Z. */
export const reportStamp = (at = new Date()) => at.toISOString().replace(/[:.]/g, '-');

/**
 * Where `chaos exp run` writes. Several runs share a report root holding index.html (and, per experiment, pair.html
 * and a directory per side): `--report DIR`, else reports/all-<time> for several experiments or
 * reports/<id>-s<seed>-<time> for one both ways. A single one-sided run writes into its own directory: `--report DIR`,
 * else reports/<run id>.
 */
export function reportLayout(
  labRoot: string,
  groups: LayoutGroup[],
  opts: { seed: number; report?: string; stamp: string },
): ReportLayout {
  const several = groups.length > 1;
  const paired = groups.some((g) => g.runs > 1);
  const root =
    several || paired
      ? (opts.report ??
        path.join(
          labRoot,
          'reports',
          several ? `all-${opts.stamp}` : `${groups[0].id.toLowerCase()}-s${opts.seed}-${opts.stamp}`,
        ))
      : undefined;
  const experimentDir = (id: string) => (root && several ? path.join(root, id) : root);
  const runDir = (r: Pick<RunResult, 'id' | 'side' | 'runId'>) => {
    const dir = experimentDir(r.id);
    if (!dir) return opts.report ?? path.join(labRoot, 'reports', r.runId);
    return r.side && paired ? path.join(dir, r.side) : dir;
  };
  return { root, experimentDir, runDir };
}
