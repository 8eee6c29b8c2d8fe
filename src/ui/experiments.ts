import * as fs from 'node:fs';
import * as path from 'node:path';
import { listExperimentFiles, loadExperimentFile } from '../experiments/loader';

export interface ExperimentRow {
  id: string;
  title: string;
  expected: string;
  last: null | {
    runId: string;
    outcome: string;
    seed: number;
    startedAt: string;
    durationSec: number;
    headline: string;
    report: string | null;
    error?: string;
  };
  invalid?: string;
}

interface Journal {
  id: string;
  runId: string;
  outcome: string;
  seed: number;
  startedAt: string;
  durationSec: number;
  expected?: string;
  error?: string;
  audit?: { figures?: Record<string, number> } | null;
  probes?: { ok: boolean }[];
}

/**
 * journal.json files at most three levels below `dir`: reports/<runId>/, a pair's reports/<id>-s<seed>-…/<side>/, and
 * `all`'s DIR/<id>/ or DIR/<id>/<side>/.
 */
function journals(dir: string, depth = 3): string[] {
  if (depth < 0 || !fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === 'journal.json') out.push(p);
    else if (e.isDirectory()) out.push(...journals(p, depth - 1));
  }
  return out;
}

/** The figures a reader looks for first, from the audit: loss and duplicates. */
function headline(j: Journal): string {
  const f = j.audit?.figures ?? {};
  const keys = ['lostBeforeTopic', 'notApplied', 'duplicateEffects', 'staleReads'].filter(
    (k) => typeof f[k] === 'number',
  );
  const probes = j.probes?.length
    ? [`probes ${j.probes.filter((p) => p.ok).length}/${j.probes.length} held`]
    : [];
  return [...keys.map((k) => `${k} ${f[k]}`), ...probes].join(', ');
}

/**
 * Every experiment in experiments/ with its latest run found under `reportsDir`, linked to report.html when the
 * run has one, else report.md. `urlFor` maps a file under reportsDir to the URL the UI serves it at.
 */
export function experimentRows(
  root: string,
  reportsDir: string,
  urlFor: (file: string) => string,
): ExperimentRow[] {
  const latest = new Map<string, { j: Journal; dir: string }>();
  for (const file of journals(reportsDir)) {
    try {
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Journal;
      const prev = latest.get(j.id);
      if (!prev || prev.j.startedAt < j.startedAt) latest.set(j.id, { j, dir: path.dirname(file) });
    } catch {
      // a journal being written right now, or not ours: the next refresh reads it
    }
  }
  return listExperimentFiles(root).map(({ id, file }) => {
    let title = '';
    let expected = '';
    let invalid: string | undefined;
    try {
      const e = loadExperimentFile(file).experiment;
      title = e.title;
      expected = e.expected;
    } catch (err) {
      invalid = (err as Error).message.split('\n')[0];
    }
    const l = latest.get(id);
    const report = l
      ? ['report.html', 'report.md'].map((f) => path.join(l.dir, f)).find((f) => fs.existsSync(f))
      : undefined;
    return {
      id,
      title,
      expected,
      ...(invalid ? { invalid } : {}),
      last: l
        ? {
            runId: l.j.runId,
            outcome: l.j.outcome,
            seed: l.j.seed,
            startedAt: l.j.startedAt,
            durationSec: l.j.durationSec,
            headline: headline(l.j),
            report: report ? urlFor(report) : null,
            ...(l.j.error ? { error: l.j.error } : {}),
          }
        : null,
    };
  });
}
