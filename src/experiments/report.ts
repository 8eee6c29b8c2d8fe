import * as fs from 'node:fs';
import * as path from 'node:path';
import { percentile } from '../lib/percentile';
import type { RunResult } from './engine';
import { alertsJudged, countedAs } from '../reports/alerts';
import { alertsOfRun, byName, carriedOverSummary } from '../reports/run-alerts';
import type { FiredAlert } from '../reports/types';
import type { ProbeResult } from './verdict';
import { workloadKind } from './workloads';

/** A probe's mark: held, failed, or could not be read (❓: inconclusive, neither). */
const mark = (p: Pick<ProbeResult, 'ok' | 'inconclusive'>) =>
  p.inconclusive ? '❓' : p.ok ? '✅' : '❌';

/** Why the lab could not tell, one reason a line (an inconclusive run without reasons says so). */
export const inconclusiveReasons = (r: Pick<RunResult, 'inconclusive'>): string[] =>
  r.inconclusive?.length ? r.inconclusive : ['no reason recorded'];

/** A workload's figures when its kind has no line of its own: every figure, `name value`, in the order kept. */
export const genericFiguresLine = (figures: Readonly<Record<string, number | null>>): string =>
  Object.entries(figures)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The verdict in words: did the run show what the experiment promises? */
export function headline(r: RunResult): string {
  const a = r.audit?.figures;
  const scenario = a && !('committed' in a);
  const figures = scenario
    ? (workloadKind(r.workloadKind)?.figuresLine?.(a) ?? genericFiguresLine(a))
    : a
      ? `committed ${a.committed}, lost before topic ${a.lostBeforeTopic}, topic duplicates ${a.topicDuplicates}, not applied ${a.notApplied}, duplicate side effects ${a.duplicateEffects}, DLQ ${a.dlqRecords}, stale reads ${a.staleReads}${a.reordered ? `, reordered ${a.reordered}` : ''}${a.viewBackwards ? `, read model backwards ${a.viewBackwards}` : ''}`
      : 'no audit';
  const word = r.expected === 'controlled' ? '✅ controlled' : '❌ reproduced';
  const cf = r.counterfactual;
  const verdict = cf
    ? cf.reproduced
      ? 'COUNTERFACTUAL DEVIATED: the ❌ side reproduced with every fault step removed (a bug in the experiment)'
      : `counterfactual as expected: not reproduced without its faults (${cf.because.join('; ')})`
    : r.outcome === 'completed'
      ? `as expected: ${word}`
      : r.outcome === 'deviated'
        ? `DEVIATED from the expected outcome (${word})`
        : r.outcome === 'inconclusive'
          ? `INCONCLUSIVE: the lab could not tell (${inconclusiveReasons(r).join('; ')})`
          : r.outcome === 'failed'
            ? `FAILED: a rollback did not happen (${failedRollbacks(r)
                .map((x) => `left: ${x.leftover}; remove with \`${x.fix}\``)
                .join('; ')})`
            : r.outcome.toUpperCase();
  return `${r.id} ${verdict} — ${figures}`;
}

/** An alert judgement's when or which (`firing at +12.0 s…`, the unexpected alerts), for the last column. */
const alertDetail = (p: ProbeResult) => (p.type === 'alert' ? (p.detail ?? '') : '');

export function verdictTable(r: RunResult): string {
  const rows = r.probes.map((p) => [
    mark(p),
    p.name,
    p.type,
    p.expected,
    p.observed === null ? 'error' : String(p.observed),
    p.crossCheck
      ? `${p.crossCheck.ok ? 'agrees' : 'DISAGREES'} with audit.${p.crossCheck.audit}=${p.crossCheck.auditValue}`
      : alertDetail(p),
  ]);
  const head = ['', 'probe', 'source', 'expected', 'observed', 'cross-check / alert'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `alerts`: those pending or firing during the run (src/reports/alerts.ts), when Prometheus was asked. */
export function markdownReport(r: RunResult, alerts?: FiredAlert[]): string {
  const a = r.audit;
  const lines = [
    `# ${r.id} — ${r.title}`,
    '',
    `**${headline(r)}**`,
    '',
    ...(r.outcome === 'inconclusive'
      ? ['Why the lab could not tell:', '', ...inconclusiveReasons(r).map((x) => `- ${x}`), '']
      : []),
    `run \`${r.runId}\`, seed ${r.seed}, ${r.durationSec.toFixed(1)} s, topic \`${r.topic}\`, consumer group \`${r.consumerGroup}\``,
    '',
    '## Verdict',
    '',
    '| | probe | source | expected | observed | cross-check / alert |',
    '|---|---|---|---|---|---|',
    ...r.probes.map(
      (p) =>
        `| ${mark(p)} | ${p.name} | ${p.type} | ${p.expected} | ${p.observed ?? 'error'} | ${p.crossCheck ? `${p.crossCheck.ok ? 'agrees' : '**disagrees**'} with audit.${p.crossCheck.audit} = ${p.crossCheck.auditValue}` : alertDetail(p).replace(/\|/g, '\\|')} |`,
    ),
    '',
    ...(alerts ? alertsSection(r, alerts) : []),
    '## Audit (independent of service metrics)',
    '',
    ...(a ? Object.entries(a.figures).map(([k, v]) => `- ${k}: ${v}`) : ['- (not run)']),
    '',
    ...(a && a.ids.lostBeforeTopic.length
      ? [
          'Lost event ids (committed, never in the topic):',
          '',
          ...a.ids.lostBeforeTopic.map((id) => `- \`${id}\``),
          '',
        ]
      : []),
    ...(a && a.ids.notApplied.length
      ? [
          'Event ids in the topic but never applied:',
          '',
          ...a.ids.notApplied.map((id) => `- \`${id}\``),
          '',
        ]
      : []),
    ...(a && a.ids.duplicateEffects.length
      ? [
          'Event ids applied more than once:',
          '',
          ...a.ids.duplicateEffects.map((d) => `- \`${d.eventId}\` × ${d.applied}`),
          '',
        ]
      : []),
    ...(a?.sections ?? []).flatMap((sec) => [`## ${sec.title}`, '', sec.markdown, '']),
    '## Run facts',
    '',
    ...Object.entries(r.facts).map(([k, v]) => `- ${k}: ${v}`),
    `- workload: ${r.workload.ok}/${r.workload.sent} accepted, ${r.workload.failed} failed, ${r.workload.retried} re-sent after connection refused`,
    '',
    '## Rollbacks',
    '',
    ...rollbackLines(r),
    '',
    '## Timeline',
    '',
    ...r.timeline.map((t) => `- +${(t.tMs / 1000).toFixed(1)} s — ${t.what}`),
    ...(r.error ? ['', `**Error:** ${r.error}`] : []),
    '',
  ];
  return lines.join('\n');
}

/**
 * The alerts that count for the run, each with what its judgement made of it; those carried over from earlier
 * runs (seen in the window, not this run's) on one line of names.
 */
function alertsSection(r: RunResult, seen: FiredAlert[]): string[] {
  const { counted, carriedOver } = alertsOfRun(r, seen);
  const carried = carriedOver.length
    ? [
        `- ${carriedOverSummary(carriedOver)} (not this run's, judged by nothing): ${byName(
          carriedOver,
        )
          .map((a) => a.alertname)
          .join(', ')}`,
      ]
    : [];
  return [
    '## Alerts during the run',
    '',
    ...(counted.length
      ? counted.map(
          (x) => `${alertLine(x)}${alertsJudged(r) ? ` — ${countedAs(x, r.alerts)}` : ''}`,
        )
      : ['- none pending or firing']),
    ...carried,
    '',
  ];
}

const since = (s?: number) => (s === undefined ? '' : `+${s.toFixed(1)} s`);
const alertLine = (a: FiredAlert) =>
  `- ${a.alertname}${a.severity ? ` (${a.severity})` : ''}: ${a.firingAtSec !== undefined ? `firing at ${since(a.firingAtSec)}` : 'pending only'}, pending at ${since(a.pendingAtSec)}${
    Object.keys(a.labels).length
      ? ` — ${Object.entries(a.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`
      : ''
  }`;

/** Writes journal.json and report.md into `dir`; returns the paths. */
export function writeReport(
  dir: string,
  r: RunResult,
  alerts?: FiredAlert[],
): { journal: string; markdown: string } {
  fs.mkdirSync(dir, { recursive: true });
  const journal = path.join(dir, 'journal.json');
  const markdown = path.join(dir, 'report.md');
  const { latenciesMs, ...workload } = r.workload;
  // NaN when no latency was measured: JSON writes it as null, as the journal always has.
  const pct = (p: number) => percentile(latenciesMs, p);
  fs.writeFileSync(
    journal,
    JSON.stringify({ ...r, workload: { ...workload, p50Ms: pct(50), p99Ms: pct(99) } }, null, 2),
  );
  fs.writeFileSync(markdown, markdownReport(r, alerts));
  return { journal, markdown };
}

const failedRollbacks = (r: RunResult) => (r.rollbacks ?? []).filter((x) => x.status === 'failed');

/** Each rollback as it ran; a failed one says what is left on the machine and the command that removes it. */
export function rollbackLines(r: RunResult): string[] {
  if (!r.rollbacks?.length) return ['(none recorded)'];
  return [
    '| rollback | for | status | ms | error / left on the machine |',
    '|---|---|---|---|---|',
    ...r.rollbacks.map(
      (x) =>
        `| ${x.name} | ${x.origin} | ${x.status === 'ok' ? '✔ ok' : '✘ FAILED'} | ${x.durationMs} | ${x.error ? `${x.error} — left: ${x.leftover}; remove with \`${x.fix}\`` : ''} |`,
    ),
  ];
}
