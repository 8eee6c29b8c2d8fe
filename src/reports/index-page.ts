import type { RunResult } from '../experiments/engine';
import { escapeXml as h } from './escape';
import { alertMatrix, alertMatrixHtml } from './alert-matrix';
import { expectedBadge, outcomeBadge, sideBadge } from './badge';
import { figureTableHtml, groupFigures } from './figure-groups';
import { alertLines, carriedOverHtml, KEY_MODE_COLUMNS, page, reasonsHtml, VERDICT_CLASS } from './html-page';
import { alertsOfRun } from './run-alerts';
import { svgPlot } from './svg-plot';
import { timelineMarkers } from './timeline';
import type { Observations } from './types';

export interface IndexEntry {
  result: RunResult;
  obs: Observations;
  /** the run's report.html, relative to the index */
  href: string;
}

/** The command audit's figures that tell loss, duplication and staleness apart, in the order a reader scans them. */
const KEY_FIGURES = ['committed', 'lostBeforeTopic', 'notApplied', 'duplicateEffects', 'topicDuplicates', 'dlqRecords', 'staleReads'];
/** The plot drawn small in each row: the first of these with samples. */
const SPARK_PREFERENCE = ['Consumer lag', 'Events into the topic', 'Database', 'Cache'];

export function keyFigures(r: RunResult): [string, number | null][] {
  const f = r.audit?.figures;
  if (!f) return [];
  // A scenario's figures are its own (no `committed`): show them all.
  if (!('committed' in f)) return Object.entries(f);
  return KEY_FIGURES.filter((k) => k in f).map((k) => [k, f[k]]);
}

/** A figure that is not zero is bold (loss, duplicates); a scenario's per-mode figures are a small table mode × figure. */
function figuresHtml(r: RunResult): string {
  const f = r.audit?.figures;
  const grouped = f && !('committed' in f) ? groupFigures(f) : undefined;
  const lines = (grouped?.table ? grouped.rest : keyFigures(r))
    .map(([k, v]) => (v !== 0 && k !== 'committed' ? `<strong>${h(k)} ${h(v)}</strong>` : `${h(k)} ${h(v)}`))
    .join('<br>');
  return grouped?.table ? `${figureTableHtml(grouped.table, KEY_MODE_COLUMNS)}${lines}` : lines;
}

function spark(e: IndexEntry): string {
  const plot = SPARK_PREFERENCE.map((p) => e.obs.plots.find((x) => x.title.startsWith(p) && x.series.some((s) => s.points.length))).find(Boolean)
    ?? e.result.audit?.plots?.find((p) => p.series.some((s) => s.points.length));
  if (!plot) return '<span class="muted">–</span>';
  const markers = timelineMarkers(e.result.timeline).filter((m) => m.kind !== 'phase');
  return `${svgPlot(plot, { compact: true, markers, xDomain: [0, Math.max(1, e.result.durationSec)] })}<div class="muted small">${h(plot.title)}</div>`;
}

/** The row's alerts: only those that count for the run; any carried over from earlier runs on one grey line, collapsed. */
function alertsCell(e: IndexEntry): string {
  const { counted, carriedOver } = alertsOfRun(e.result, e.obs.alerts);
  const own = counted.length
    ? alertLines(counted)
    : `<span class="muted">${e.obs.errors.length && !e.obs.alerts.length ? 'unknown (no Prometheus data)' : 'none'}</span>`;
  return own + carriedOverHtml(carriedOver, alertLines(carriedOver));
}

/** The outcome column: the badge, what failed (or could not be read), and why an inconclusive run could not tell. */
function outcomeCell(r: RunResult): string {
  const failing = r.probes
    .filter((p) => !p.ok)
    .map((p) => `<li>${h(p.name)}: ${p.inconclusive ? 'could not be read' : `expected ${h(p.expected)}, observed ${h(p.observed ?? 'error')}`}</li>`)
    .join('');
  const reasons = r.outcome === 'inconclusive' ? reasonsHtml(r, 'small reasons inconclusive') : '';
  return `${outcomeBadge(r.outcome)}${reasons}${failing ? `<ul class="small">${failing}</ul>` : ''}<br><span class="muted small">${h(r.probes.filter((p) => p.ok).length)}/${h(r.probes.length)} probes · ${h(r.durationSec.toFixed(0))} s · seed ${h(r.seed)}</span>`;
}

/** The page's headline: how many runs showed their outcome, how many the lab could not judge. */
function summaryHtml(entries: IndexEntry[]): string {
  const outcomes = entries.map((e) => e.result.outcome);
  const asExpected = outcomes.filter((o) => o === 'completed').length;
  const unknown = outcomes.filter((o) => o === 'inconclusive').length;
  const tone = asExpected === entries.length ? 'pass' : asExpected + unknown === entries.length ? 'unknown' : 'fail';
  return `<div class="verdict ${VERDICT_CLASS[tone]}">${asExpected}/${entries.length} runs showed their expected outcome${unknown ? ` · ${unknown} inconclusive (the lab could not tell)` : ''}</div>`;
}

/**
 * index.html of `chaos exp run all`: one row per experiment, the controlled (pattern holds) and reproduced (anti-pattern
 * reproduced) runs side by side — expected outcome, what was observed, key figures, the alerts that fired and a
 * sparkline with the faults marked — each linking to its full report.
 */
export function indexHtml(entries: IndexEntry[], generatedAt = new Date().toISOString()): string {
  const rows = entries.map((e) => {
    const r = e.result;
    const figures = figuresHtml(r);
    return `<tr data-outcome="${h(r.outcome)}"><td><a href="${h(e.href)}"><strong>${h(r.id)}</strong></a>${r.side ? ` ${sideBadge(r.side)}` : ''}<br><span class="muted small">${h(r.title)}</span></td><td>${expectedBadge(r.expected)}</td><td>${outcomeCell(r)}</td><td class="small">${figures || '<span class="muted">no audit</span>'}</td><td class="small alerts">${alertsCell(e)}</td><td>${spark(e)}</td></tr>`;
  });
  const body = [
    '<h1>Reliability Lab — experiment runs</h1>',
    summaryHtml(entries),
    `<p class="meta">generated ${h(generatedAt)}. ${expectedBadge('controlled')}: the pattern keeps loss, duplicates and staleness at zero under the fault. ${expectedBadge('reproduced')}: the anti-pattern really loses or duplicates data, and the figures say how much. Either way "as expected" means the hypothesis in the experiment file was observed.</p>`,
    '<table class="index"><thead><tr><th>experiment</th><th>expected</th><th>outcome</th><th>key figures (audit)</th><th>the run\'s alerts pending/firing</th><th>key series</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    '<p class="muted">Each row links to its report.html (verdict, plots with the fault timeline, alerts, audit). A row lists only the alerts that count for its run (labelled with its run id or topic, or cluster-wide and active since its reset); those left firing by start-up or an earlier run are on its grey line, collapsed. junit.xml beside this page holds every probe as a test case.</p>',
    '<h2>Alert matrix</h2>',
    '<p class="meta">Each experiment side (its latest run) against every alert a side declares in its <code>alerts:</code> or that fired: a reproduced side must be caught by an alert that pages (warning or above), a controlled side must page nobody. Only the alerts that count for a run are shown: labelled with its run id or topic, or active since its start.</p>',
    alertMatrixHtml(alertMatrix(entries.map((e) => e.result))),
  ];
  return page('Reliability Lab — experiment runs', body.join('\n')).replace('</style>', '.small{font-size:12px}table.index td{min-width:80px}table.matrix td.side{white-space:nowrap}table.matrix th{min-width:70px}</style>');
}
